// RAII handles for sd-bus, and the two ways pmx picks a bus.
#pragma once

#include <systemd/sd-bus.h>

#include <memory>
#include <string>

#include "util/result.hpp"

namespace pmx::bus {

enum class Scope { System, User };

struct BusUnref {
    void operator()(sd_bus* b) const noexcept { sd_bus_flush_close_unref(b); }
};
struct MessageUnref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* s) const noexcept { sd_bus_slot_unref(s); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;

// sd_bus_error that frees itself.
class BusError {
public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e_); }
    sd_bus_error* get() { return &e_; }
    bool is_set() const { return sd_bus_error_is_set(&e_); }
    bool has_name(const char* name) const { return sd_bus_error_has_name(&e_, name); }
    // The D-Bus error's message, or strerror(-r) when the call failed locally.
    std::string describe(int r) const;

private:
    sd_bus_error e_ = SD_BUS_ERROR_NULL;
};

// Opens the system bus or the calling user's bus (as systemctl --user does).
Result<BusPtr> open(Scope scope);

const char* scope_name(Scope scope);

}  // namespace pmx::bus
