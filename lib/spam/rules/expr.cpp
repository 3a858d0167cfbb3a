// Meta expressions: a precedence-climbing parser over Perl's operator table.
#include "spam/rules/expr.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <unordered_map>

namespace pmx::spam::rules::detail {

namespace {

enum class Tok { End, Num, Ident, LParen, RParen, Not, Minus, Plus, Mul, Div, And, Or, Lt, Gt, Le, Ge, Eq, Ne, Bad };

struct Token {
    Tok kind = Tok::End;
    std::string text;
    double num = 0;
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<Token> lex(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { ++i; continue; }
        Token t;
        auto two = [&](char x, char y) { return c == x && i + 1 < s.size() && s[i + 1] == y; };
        if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            std::size_t j = i;
            while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == '_')) ++j;
            std::string digits;
            for (std::size_t k = i; k < j; ++k)
                if (s[k] != '_') digits += s[k];
            t.kind = Tok::Num;
            t.num = std::strtod(digits.c_str(), nullptr);
            i = j;
        } else if (ident_start(c)) {
            std::size_t j = i;
            while (j < s.size() && ident_char(s[j])) ++j;
            t.kind = Tok::Ident;
            t.text = std::string(s.substr(i, j - i));
            // NAME(ARG): plugin(...), can(...), rules_matching(...): one token with its argument
            std::size_t k = j;
            while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
            if (k < s.size() && s[k] == '(' && (t.text == "plugin" || t.text == "can" || t.text == "has" ||
                                                 t.text == "rules_matching" || t.text == "perl_version")) {
                std::size_t close = s.find(')', k);
                if (close == std::string_view::npos) { t.kind = Tok::Bad; out.push_back(t); return out; }
                std::string arg(s.substr(k + 1, close - k - 1));
                while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t')) arg.pop_back();
                while (!arg.empty() && (arg.front() == ' ' || arg.front() == '\t')) arg.erase(0, 1);
                t.text += "(" + arg + ")";
                j = close + 1;
            }
            i = j;
        } else if (two('&', '&')) { t.kind = Tok::And; i += 2; }
        else if (two('|', '|')) { t.kind = Tok::Or; i += 2; }
        else if (two('<', '=')) { t.kind = Tok::Le; i += 2; }
        else if (two('>', '=')) { t.kind = Tok::Ge; i += 2; }
        else if (two('=', '=')) { t.kind = Tok::Eq; i += 2; }
        else if (two('!', '=')) { t.kind = Tok::Ne; i += 2; }
        else if (c == '(') { t.kind = Tok::LParen; ++i; }
        else if (c == ')') { t.kind = Tok::RParen; ++i; }
        else if (c == '!') { t.kind = Tok::Not; ++i; }
        else if (c == '-') { t.kind = Tok::Minus; ++i; }
        else if (c == '+') { t.kind = Tok::Plus; ++i; }
        else if (c == '*') { t.kind = Tok::Mul; ++i; }
        else if (c == '/') { t.kind = Tok::Div; ++i; }
        else if (c == '<') { t.kind = Tok::Lt; ++i; }
        else if (c == '>') { t.kind = Tok::Gt; ++i; }
        else { t.kind = Tok::Bad; t.text = std::string(1, c); out.push_back(t); return out; }
        // Perl's word operators
        if (t.kind == Tok::Ident) {
            if (t.text == "and") t.kind = Tok::And;
            else if (t.text == "or") t.kind = Tok::Or;
            else if (t.text == "not") t.kind = Tok::Not;
        }
        out.push_back(std::move(t));
    }
    out.push_back(Token{});
    return out;
}

}  // namespace

struct ExprParser {
    Expr& e;
    std::vector<Token> toks;
    std::size_t pos = 0;
    const std::function<bool(std::string_view, double&)>& resolve;
    std::unordered_map<std::string, std::uint32_t> var_index;
    std::string error;
    int depth = 0;

    const Token& peek() const { return toks[pos]; }

    std::int32_t add(Expr::Node n) {
        e.nodes_.push_back(n);
        return static_cast<std::int32_t>(e.nodes_.size() - 1);
    }

    // Perl precedence, loosest first: || ; && ; == != ; < > <= >= ; + - ; * / ; unary ! -
    static int prec(Tok k) {
        switch (k) {
        case Tok::Or: return 1;
        case Tok::And: return 2;
        case Tok::Eq: case Tok::Ne: return 3;
        case Tok::Lt: case Tok::Gt: case Tok::Le: case Tok::Ge: return 4;
        case Tok::Plus: case Tok::Minus: return 5;
        case Tok::Mul: case Tok::Div: return 6;
        default: return 0;
        }
    }
    static Expr::Op binop(Tok k) {
        switch (k) {
        case Tok::Or: return Expr::Op::Or;
        case Tok::And: return Expr::Op::And;
        case Tok::Eq: return Expr::Op::Eq;
        case Tok::Ne: return Expr::Op::Ne;
        case Tok::Lt: return Expr::Op::Lt;
        case Tok::Gt: return Expr::Op::Gt;
        case Tok::Le: return Expr::Op::Le;
        case Tok::Ge: return Expr::Op::Ge;
        case Tok::Plus: return Expr::Op::Add;
        case Tok::Minus: return Expr::Op::Sub;
        case Tok::Mul: return Expr::Op::Mul;
        default: return Expr::Op::Div;
        }
    }

    std::int32_t primary() {
        if (++depth > 200) { error = "expression nested too deeply"; return -1; }
        const Token& t = peek();
        std::int32_t r = -1;
        switch (t.kind) {
        case Tok::Num: ++pos; r = add({.op = Expr::Op::Num, .num = t.num}); break;
        case Tok::Ident: {
            ++pos;
            double v = 0;
            if (resolve && resolve(t.text, v)) { r = add({.op = Expr::Op::Num, .num = v}); break; }
            if (t.text.find('(') != std::string::npos) { error = fmt::format("cannot evaluate {}", t.text); return -1; }
            auto [it, inserted] = var_index.emplace(t.text, static_cast<std::uint32_t>(e.vars_.size()));
            if (inserted) e.vars_.push_back(t.text);
            r = add({.op = Expr::Op::Var, .var = it->second});
            break;
        }
        case Tok::LParen: {
            ++pos;
            r = binary(1);
            if (r < 0) return -1;
            if (peek().kind != Tok::RParen) { error = "missing )"; return -1; }
            ++pos;
            break;
        }
        case Tok::Not: case Tok::Minus: case Tok::Plus: {
            Tok k = t.kind;
            ++pos;
            std::int32_t a = primary();
            if (a < 0) return -1;
            if (k == Tok::Plus) r = a;
            else r = add({.op = k == Tok::Not ? Expr::Op::Not : Expr::Op::Neg, .a = a});
            break;
        }
        case Tok::Bad: error = fmt::format("unexpected '{}'", t.text); return -1;
        case Tok::End: error = "unexpected end of expression"; return -1;
        default: error = "operator where an operand belongs"; return -1;
        }
        --depth;
        return r;
    }

    std::int32_t binary(int min_prec) {
        std::int32_t lhs = primary();
        if (lhs < 0) return -1;
        for (;;) {
            Tok k = peek().kind;
            int p = prec(k);
            if (p == 0 || p < min_prec) return lhs;
            ++pos;
            std::int32_t rhs = binary(p + 1);
            if (rhs < 0) return -1;
            lhs = add({.op = binop(k), .a = lhs, .b = rhs});
        }
    }
};

Result<Expr> Expr::parse(std::string_view text, const std::function<bool(std::string_view, double&)>& resolve) {
    Expr e;
    ExprParser p{e, lex(text), 0, resolve, {}, {}, 0};
    if (p.toks.size() == 1) return Error{"empty expression"};
    e.root_ = p.binary(1);
    if (e.root_ >= 0 && p.peek().kind != Tok::End) {
        p.error = p.peek().kind == Tok::RParen ? "unbalanced )" : "unexpected token after the expression";
        e.root_ = -1;
    }
    if (e.root_ < 0) return Error{p.error.empty() ? "syntax error" : p.error};
    return e;
}

double Expr::eval(const double* values) const { return root_ < 0 ? 0 : eval_node(root_, values); }

double Expr::eval_node(std::int32_t i, const double* values) const {
    const Node& n = nodes_[static_cast<std::size_t>(i)];
    switch (n.op) {
    case Op::Num: return n.num;
    case Op::Var: return values ? values[n.var] : 0;
    case Op::Not: return eval_node(n.a, values) != 0 ? 0 : 1;
    case Op::Neg: return -eval_node(n.a, values);
    case Op::And: { double a = eval_node(n.a, values); return a != 0 ? eval_node(n.b, values) : a; }
    case Op::Or: { double a = eval_node(n.a, values); return a != 0 ? a : eval_node(n.b, values); }
    case Op::Add: return eval_node(n.a, values) + eval_node(n.b, values);
    case Op::Sub: return eval_node(n.a, values) - eval_node(n.b, values);
    case Op::Mul: return eval_node(n.a, values) * eval_node(n.b, values);
    case Op::Div: { double b = eval_node(n.b, values); return b == 0 ? 0 : eval_node(n.a, values) / b; }
    case Op::Lt: return eval_node(n.a, values) < eval_node(n.b, values) ? 1 : 0;
    case Op::Gt: return eval_node(n.a, values) > eval_node(n.b, values) ? 1 : 0;
    case Op::Le: return eval_node(n.a, values) <= eval_node(n.b, values) ? 1 : 0;
    case Op::Ge: return eval_node(n.a, values) >= eval_node(n.b, values) ? 1 : 0;
    case Op::Eq: return eval_node(n.a, values) == eval_node(n.b, values) ? 1 : 0;
    case Op::Ne: return eval_node(n.a, values) != eval_node(n.b, values) ? 1 : 0;
    }
    return 0;
}

}  // namespace pmx::spam::rules::detail
