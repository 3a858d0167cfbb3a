// Meta-rule expressions (`meta NAME (A && !B) || (C + D > 1)`) and the `if` conditions of rule
// files, compiled once into a small tree and evaluated with Perl's semantics (&& and || return an
// operand, comparisons 1 or 0), since SpamAssassin evaluates them as Perl.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::spam::rules::detail {

class Expr {
public:
    enum class Op : std::uint8_t {
        Num, Var, Not, Neg, And, Or, Add, Sub, Mul, Div, Lt, Gt, Le, Ge, Eq, Ne,
    };
    struct Node {
        Op op = Op::Num;
        double num = 0;
        std::uint32_t var = 0;  // index into vars() for Var
        std::int32_t a = -1, b = -1;
    };

    // Identifiers become variables (see vars()); `resolve` may replace an identifier by a constant
    // first (returns false to keep it a variable): used for `version`, `plugin(...)`, `can(...)`.
    // Function-like tokens NAME(ARG) are passed to resolve as "NAME(ARG)" and must resolve.
    static Result<Expr> parse(std::string_view text,
                              const std::function<bool(std::string_view ident, double& value)>& resolve = {});

    const std::vector<std::string>& vars() const { return vars_; }
    // values[i] is the value of vars()[i].
    double eval(const double* values) const;
    double eval_const() const { return eval(nullptr); }

private:
    double eval_node(std::int32_t i, const double* values) const;
    std::vector<Node> nodes_;
    std::int32_t root_ = -1;
    std::vector<std::string> vars_;
    friend struct ExprParser;
};

}  // namespace pmx::spam::rules::detail
