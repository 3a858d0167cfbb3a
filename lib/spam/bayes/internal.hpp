// Pieces the SQL read path (store.cpp) and the snapshot read path (snapshot.cpp) share.
#pragma once

#include <vector>

#include "spam/bayes/bayes.hpp"

namespace pmx::spam::bayes::detail {

// Tokens as the database stores them: the signed 64-bit bit pattern.
inline std::int64_t to_db(Token t) { return static_cast<std::int64_t>(t); }
inline Token from_db(std::int64_t v) { return static_cast<Token>(v); }

// Sorted and unique (tokenize() gives them so already).
std::vector<Token> sorted_unique(const std::vector<Token>& tokens);

// Adds the counts of the owner's rows (with_global: and of the global rows) of each token of
// `sorted` to found[i], 128 tokens per query.
Result<void> add_counts(store::Database& db, const std::vector<Token>& sorted, std::string_view owner,
                        bool with_global, std::vector<TokenCounts>& found);

struct MessageCounts {
    std::int64_t spam = 0, ham = 0;
};
// Messages learned by the owner (with_global: plus the global ones).
Result<MessageCounts> message_counts(store::Database& db, std::string_view owner, bool with_global);

bool ready(const MessageCounts& c, const Settings& settings);

// The Classification of a message whose tokens have these counts.
Classification summarize(const std::vector<TokenCounts>& found, const MessageCounts& c, const Params& params);

}  // namespace pmx::spam::bayes::detail
