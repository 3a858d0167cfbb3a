// Inside lib/web: typed params beyond web/rpc.hpp's string_param and int_param, each with a
// clear kInvalidParams message and a cap on how many items a list may hold.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "web/rpc.hpp"

namespace pmx::web {

inline RpcError invalid_params(std::string message) { return RpcError{rpc_code::kInvalidParams, std::move(message)}; }

// nullopt when absent (or null).
inline std::variant<std::optional<bool>, RpcError> bool_param(const Call& c, const char* name) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) return std::optional<bool>{};
    if (!it->is_boolean()) return invalid_params(fmt::format("Parameter \"{}\" must be true or false", name));
    return std::optional<bool>{it->get<bool>()};
}

inline std::variant<std::optional<double>, RpcError> number_param(const Call& c, const char* name) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) return std::optional<double>{};
    if (!it->is_number()) return invalid_params(fmt::format("Parameter \"{}\" must be a number", name));
    return std::optional<double>{it->get<double>()};
}

// A list of strings, each at most max_length bytes; absent is an empty list unless required.
inline std::variant<std::vector<std::string>, RpcError> strings_param(const Call& c, const char* name, bool required,
                                                                      std::size_t max_items,
                                                                      std::size_t max_length = 1000) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) {
        if (required) return invalid_params(fmt::format("Missing parameter \"{}\"", name));
        return std::vector<std::string>{};
    }
    if (!it->is_array()) return invalid_params(fmt::format("Parameter \"{}\" must be a list of strings", name));
    if (it->size() > max_items)
        return invalid_params(fmt::format("Parameter \"{}\": at most {} items per call", name, max_items));
    std::vector<std::string> out;
    for (const auto& v : *it) {
        if (!v.is_string()) return invalid_params(fmt::format("Parameter \"{}\" must be a list of strings", name));
        if (v.get_ref<const std::string&>().size() > max_length)
            return invalid_params(fmt::format("Parameter \"{}\": an item is longer than {} bytes", name, max_length));
        out.push_back(v.get<std::string>());
    }
    if (required && out.empty()) return invalid_params(fmt::format("Parameter \"{}\" must not be empty", name));
    return out;
}

// A non-empty list of message ids (positive integers; numeric strings are taken too).
inline std::variant<std::vector<std::int64_t>, RpcError> ids_param(const Call& c, const char* name, std::size_t max_items) {
    auto it = c.params.find(name);
    if (it == c.params.end() || !it->is_array() || it->empty())
        return invalid_params(fmt::format("Parameter \"{}\" must be a non-empty list of message ids", name));
    if (it->size() > max_items)
        return invalid_params(fmt::format("Parameter \"{}\": at most {} ids per call", name, max_items));
    std::vector<std::int64_t> out;
    std::size_t n = 0;
    for (const auto& v : *it) {
        ++n;
        std::int64_t id = 0;
        if (v.is_number_integer() && !v.is_number_unsigned()) id = v.get<std::int64_t>();
        else if (v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
            id = static_cast<std::int64_t>(v.get<std::uint64_t>());
        else if (v.is_string()) {
            const auto& s = v.get_ref<const std::string&>();
            if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) id = 0;
            else id = std::stoll(s);
        }
        if (id <= 0)
            return invalid_params(fmt::format("Parameter \"{}\": item {} is not a message id (a positive number)", name, n));
        out.push_back(id);
    }
    return out;
}

// Unpacks a variant param into `into`, returning its error from the handler. For brevity in handlers:
//   std::string owner; if (auto e = take(string_param(c, "owner", false), owner)) return *e;
template <class T>
std::optional<RpcError> take(std::variant<T, RpcError>&& v, T& into) {
    if (auto* e = std::get_if<RpcError>(&v)) return std::move(*e);
    into = std::move(std::get<T>(v));
    return std::nullopt;
}

}  // namespace pmx::web
