// org.pmx.QueueRunner1 on /org/pmx/Daemon1 (share/dbus/org.pmx.QueueRunner1.xml): the Queue
// Runner's own methods beside org.pmx.Daemon1.
#pragma once

#include <systemd/sd-bus.h>

#include "bus/bus.hpp"
#include "util/result.hpp"

namespace pmx::queued {

class QueueRunner;

inline constexpr const char* kQueueInterface = "org.pmx.QueueRunner1";

Result<bus::SlotPtr> add_queue_interface(sd_bus* bus, QueueRunner& runner);

}  // namespace pmx::queued
