#include "rules/dependencies.hpp"

#include <map>

namespace ewsd::rules {

namespace {

unsigned metric_reads(const std::string& name) {
    static const std::map<std::string, unsigned> table{
        {"absences", attendance},
        {"excused_absences", attendance},
        {"unexcused_absences", attendance},
        {"tardies", attendance},
        {"absence_rate", attendance},
        {"attendance_rate", attendance},
        {"consecutive_absences", attendance},
        {"enrolled_days", 0U},
        {"attr", 0U},
        {"grade_change", grades},
        {"failing_grades", grades},
        {"average_grade", grades},
        {"incidents", incidents},
        {"suspensions", incidents},
        {"suspension_days", incidents},
        {"flagged_domains", all_data},
    };
    const auto it = table.find(name);
    return it == table.end() ? all_data : it->second; // an unknown function: assume the worst
}

class Collector {
public:
    explicit Collector(const RuleSet& rules) : m_rules(rules) {}

    unsigned rule(const Rule& r) {
        if (!m_visiting.insert(r.id).second) {
            return 0; // a cycle is a load error; stay finite anyway
        }
        unsigned kinds = roster | calendar;
        for (const Expr* e : {r.when.get(), r.applies_to.get(), r.resolve_when.get()}) {
            if (e != nullptr) {
                kinds |= expr(*e);
            }
        }
        return kinds;
    }

private:
    unsigned expr(const Expr& e) {
        unsigned kinds = 0;
        if (e.kind == Expr::Kind::call) {
            if (e.text == "flagged") {
                kinds |= flagged(e);
            } else {
                kinds |= metric_reads(e.text);
            }
        }
        if (e.condition != nullptr) {
            kinds |= expr(*e.condition);
        }
        for (const auto& item : e.items) {
            kinds |= expr(*item);
        }
        return kinds;
    }

    unsigned flagged(const Expr& call) {
        if (call.items.empty() || call.items[0]->value.type != Type::string) {
            return all_data;
        }
        const std::string& id = call.items[0]->value.string;
        for (const auto& r : m_rules.rules) {
            if (r.id == id) {
                return rule(r);
            }
        }
        return all_data;
    }

    const RuleSet& m_rules;
    std::set<std::string> m_visiting;
};

} // namespace

unsigned data_read_by(const RuleSet& rules, const Rule& rule) {
    return Collector(rules).rule(rule);
}

std::set<std::string> rules_reading(const RuleSet& rules, unsigned kinds) {
    std::set<std::string> out;
    for (const auto& r : rules.rules) {
        if ((data_read_by(rules, r) & kinds) != 0) {
            out.insert(r.id);
        }
    }
    return out;
}

unsigned data_kind_of(store::RecordKind kind) {
    switch (kind) {
    case store::RecordKind::students:
        return roster;
    case store::RecordKind::calendar:
        return calendar;
    case store::RecordKind::attendance:
        return attendance;
    case store::RecordKind::grades:
        return grades;
    case store::RecordKind::incidents:
        return incidents;
    }
    return all_data;
}

} // namespace ewsd::rules
