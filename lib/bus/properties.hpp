// Reading the a{sv} of org.freedesktop.DBus.Properties.GetAll
// into C++ values. A property whose signature is not the expected one is skipped.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pmx::bus::detail {

template <class T> struct BusType;
template <> struct BusType<std::string> { static constexpr char sig[] = "s"; };
template <> struct BusType<std::uint64_t> { static constexpr char sig[] = "t"; };
template <> struct BusType<std::uint32_t> { static constexpr char sig[] = "u"; };
template <> struct BusType<std::int32_t> { static constexpr char sig[] = "i"; };
template <> struct BusType<bool> { static constexpr char sig[] = "b"; };
template <> struct BusType<std::vector<std::string>> { static constexpr char sig[] = "as"; };
template <> struct BusType<std::vector<std::pair<std::string, std::uint64_t>>> { static constexpr char sig[] = "a{st}"; };

inline int read_value(sd_bus_message* m, std::string& out) {
    const char* s = nullptr;
    int r = sd_bus_message_read_basic(m, 's', &s);
    if (r >= 0) out = s ? s : "";
    return r;
}
inline int read_value(sd_bus_message* m, std::uint64_t& out) { return sd_bus_message_read_basic(m, 't', &out); }
inline int read_value(sd_bus_message* m, std::uint32_t& out) { return sd_bus_message_read_basic(m, 'u', &out); }
inline int read_value(sd_bus_message* m, std::int32_t& out) { return sd_bus_message_read_basic(m, 'i', &out); }
inline int read_value(sd_bus_message* m, bool& out) {
    int b = 0;
    int r = sd_bus_message_read_basic(m, 'b', &b);
    if (r >= 0) out = b != 0;
    return r;
}
inline int read_value(sd_bus_message* m, std::vector<std::string>& out) {
    char** strv = nullptr;
    int r = sd_bus_message_read_strv(m, &strv);
    if (r < 0) return r;
    out.clear();
    for (char** p = strv; p && *p; ++p) {
        out.emplace_back(*p);
        std::free(*p);
    }
    std::free(strv);
    return r;
}
inline int read_value(sd_bus_message* m, std::vector<std::pair<std::string, std::uint64_t>>& out) {
    int r = sd_bus_message_enter_container(m, 'a', "{st}");
    if (r < 0) return r;
    out.clear();
    const char* name = nullptr;
    std::uint64_t value = 0;
    while ((r = sd_bus_message_read(m, "{st}", &name, &value)) > 0) out.emplace_back(name, value);
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
}

// The message is positioned at a variant: reads it into out when its contents have
// T's signature and returns 1, else skips it and returns 0. Negative errno on error.
template <class T>
int read_variant(sd_bus_message* m, T& out) {
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, nullptr, &contents);
    if (r < 0) return r;
    if (!contents || std::strcmp(contents, BusType<T>::sig) != 0) {
        r = sd_bus_message_skip(m, "v");
        return r < 0 ? r : 0;
    }
    if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0) return r;
    if ((r = read_value(m, out)) < 0) return r;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    return 1;
}

// Walks the a{sv} at the message's position, calling fn(name) for each entry with the
// message at the entry's variant. fn reads it (read_variant) or leaves it, and the variant
// is then skipped; fn returns a negative errno only on error.
template <class Fn>
int for_each_property(sd_bus_message* m, Fn&& fn) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0) return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char* name = nullptr;
        if ((r = sd_bus_message_read_basic(m, 's', &name)) < 0) return r;
        r = fn(std::string_view(name));
        if (r < 0) return r;
        char type = 0;
        r = sd_bus_message_peek_type(m, &type, nullptr);
        if (r < 0) return r;
        if (r > 0 && type == 'v' && (r = sd_bus_message_skip(m, "v")) < 0) return r;
        if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
}

}  // namespace pmx::bus::detail
