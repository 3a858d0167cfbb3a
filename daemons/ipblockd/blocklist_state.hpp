// What the policy server answers from: the current lists, swapped whole (never changed in
// place). The event loop reads, the reload and the database poller write.
#pragma once

#include <memory>
#include <mutex>

#include "ipblock/lists.hpp"

namespace pmx::ipblockd {

class BlocklistState {
public:
    struct View {
        std::shared_ptr<const ipblock::FileLists> files;
        std::shared_ptr<const ipblock::DbBlocks> db;
    };
    View view() const {
        std::lock_guard lock(mutex_);
        return {files_, db_};
    }
    void set_files(std::shared_ptr<const ipblock::FileLists> f) {
        std::lock_guard lock(mutex_);
        files_ = std::move(f);
    }
    void set_db(std::shared_ptr<const ipblock::DbBlocks> d) {
        std::lock_guard lock(mutex_);
        db_ = std::move(d);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const ipblock::FileLists> files_;
    std::shared_ptr<const ipblock::DbBlocks> db_;
};

}  // namespace pmx::ipblockd
