#include "referrals/model.hpp"

namespace ewsd::referrals {

const char* to_string(State state) {
    switch (state) {
    case State::pending:
        return "pending";
    case State::open:
        return "open";
    case State::acknowledged:
        return "acknowledged";
    case State::resolved:
        return "resolved";
    case State::closed:
        return "closed";
    }
    return "?";
}

const char* to_string(Event event) {
    switch (event) {
    case Event::opened:
        return "referral.opened";
    case Event::updated:
        return "referral.updated";
    case Event::renotified:
        return "referral.renotified";
    case Event::resolved:
        return "referral.resolved";
    }
    return "?";
}

} // namespace ewsd::referrals
