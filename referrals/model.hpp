#pragma once
// A referral as notifiers and templates see it: one student, one rule, its
// state, and the evidence in words. The store keeps referrals (store/); the
// lifecycle (referrals/lifecycle) opens, updates and resolves them; rendering
// (referrals/render) turns them into emails and webhook payloads.

#include <cstdint>
#include <string>
#include <vector>

namespace ewsd::referrals {

enum class State { pending, open, acknowledged, resolved, closed };
const char* to_string(State state);

// What a notification is about.
enum class Event { opened, updated, renotified, resolved };
const char* to_string(Event event); // "referral.opened", ...

struct EvidenceItem {
    std::string metric; // "absence_rate(school_year)"
    std::string window; // "school_year"
    double value = 0;
    std::string op; // ">="
    double threshold = 0;
    bool holds = false;
};

struct Student {
    std::string id;
    std::string first_name; // empty in messages with privacy.email_student_names: false
    std::string last_name;
    std::string school_id;
    int grade_level = 0;
};

struct Referral {
    std::int64_t id = 0;
    Student student;
    std::string rule_id;
    std::string rule_name;
    std::string rule_description; // what it means and its source
    std::string domain;           // attendance | behavior | course | composite
    std::string notify;           // the rule's routing key
    int tier = 1;
    State state = State::open;
    std::string opened_on;  // YYYY-MM-DD (school-local as-of date)
    std::string as_of;      // the evaluation that produced the evidence
    bool escalated = false; // open and unacknowledged past escalate_after: the lead is told too
    std::vector<EvidenceItem> evidence;
};

} // namespace ewsd::referrals
