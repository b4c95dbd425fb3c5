#pragma once
// Derives the store's rows (enrollments, attendance, grades, incidents, the
// calendar) from an Ed-Fi feed's staged records, for the scopes their changes
// left pending: one transaction per kind, which also clears its pending
// scopes, so a crash or a stop repeats the derivation rather than losing it.

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "store/database.hpp"

#include <vector>

namespace ewsd::connectors::edfi {

// The source a derivation reports and records its load under: "store.grades".
std::string derived_source(store::RecordKind kind);

std::vector<LoadReport> derive_pending(store::Database& db, const core::FeedConfig& feed,
                                       const PollOptions& options);

} // namespace ewsd::connectors::edfi
