#include "rules/rule_set.hpp"

#include "core/yaml_reader.hpp"
#include "rules/analysis.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace ewsd::rules {

namespace {

const std::vector<std::string> rule_keys{
    "id",  "name",         "description", "domain",  "tier",   "when",     "applies_to",
    "for", "resolve_when", "notify",      "enabled", "params", "overrides"};

struct SourceFile {
    std::string name;
    std::vector<std::string> lines;
};

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

// Reads a constant: a number, string, boolean, or a list of numbers or strings.
std::optional<Value> read_constant(core::YamlReader& reader, const YAML::Node& node) {
    if (node.IsSequence()) {
        std::vector<Value> items;
        std::optional<Type> type;
        for (const auto& item : node) {
            auto v = read_constant(reader, item);
            if (!v) {
                return std::nullopt;
            }
            if (v->type == Type::list || v->type == Type::boolean || (type && *type != v->type)) {
                reader.error(item, "a list's items must all be numbers or all be strings");
                return std::nullopt;
            }
            type = v->type;
            items.push_back(std::move(*v));
        }
        return Value::of_list(std::move(items));
    }
    if (!node.IsScalar()) {
        reader.error(node, "expected a number, a string, true/false or a list");
        return std::nullopt;
    }
    const std::string& text = node.Scalar();
    if (node.Tag() != "!") { // unquoted: may be a number or a boolean
        if (text == "true" || text == "false") {
            return Value::of(text == "true");
        }
        try {
            std::size_t used = 0;
            const double n = std::stod(text, &used);
            if (used == text.size()) {
                return Value::of(n);
            }
        } catch (const std::exception&) {
        }
    }
    return Value::of(text);
}

class Loader : public Scope {
public:
    explicit Loader(util::Diagnostics& diagnostics) : m_diagnostics(diagnostics) {}

    // Scope
    [[nodiscard]] const NameInfo* find(const std::string& name) const override {
        if (m_params != nullptr) {
            if (const auto it = m_param_infos.find(name); it != m_param_infos.end()) {
                m_used.insert(name);
                return &it->second;
            }
        }
        if (const auto it = m_set.definitions.find(name); it != m_set.definitions.end()) {
            m_used.insert(name);
            inherit_edges(name);
            return &it->second;
        }
        if (const auto it = m_builtins.find(name); it != m_builtins.end()) {
            return &it->second;
        }
        return nullptr;
    }
    [[nodiscard]] std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& [name, info] : m_set.definitions) {
            out.push_back(name);
        }
        for (const auto& [name, info] : m_param_infos) {
            out.push_back(name);
        }
        for (const auto& [name, info] : m_builtins) {
            out.push_back(name);
        }
        return out;
    }
    [[nodiscard]] bool rule_exists(const std::string& id) const override {
        return m_rule_files.count(id) != 0;
    }
    void note_flagged(const std::string& id, Position where) override {
        m_edges[owner()].push_back({id, where, m_current_scalar, m_current_file});
    }

    void load(const std::vector<std::pair<std::string, std::string>>& files);
    RuleSet take() { return std::move(m_set); }

private:
    struct Edge {
        std::string target;
        Position position;
        YAML::Node scalar;
        const SourceFile* file;
    };

    // Edges are kept per rule ("id") and per named condition ("=name"): a rule
    // or condition that uses a condition depends on what that one flags.
    [[nodiscard]] std::string owner() const {
        return m_current_rule.empty() ? "=" + m_current_condition : m_current_rule;
    }
    void inherit_edges(const std::string& name) const {
        const auto it = m_edges.find("=" + name);
        if (it != m_edges.end() && owner() != it->first) {
            const std::vector<Edge> edges = it->second;
            auto& mine = m_edges[owner()];
            mine.insert(mine.end(), edges.begin(), edges.end());
        }
    }

    void collect_ids(const SourceFile& file, core::YamlReader& reader, const YAML::Node& rules);
    bool already_defined(core::YamlReader& reader, const YAML::Node& key);
    void read_constants(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node);
    void read_conditions(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node);
    void read_rule(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node);
    ExprPtr expression(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node,
                       Type expected, const std::string& what);
    void report(const SourceFile& file, const YAML::Node& scalar, Position p,
                const std::string& message, bool warning = false);
    void warn_if_never(const SourceFile& file, const YAML::Node& scalar, const Rule& rule,
                       const Expr& expr, const char* key);
    void warn_flagged_disabled();
    void order_rules();

    util::Diagnostics& m_diagnostics;
    RuleSet m_set;
    std::map<std::string, NameInfo> m_builtins{
        {"grade_level", {NameInfo::Kind::attribute, Type::number, {}, nullptr}},
        {"school_id", {NameInfo::Kind::attribute, Type::string, {}, nullptr}}};
    std::map<std::string, std::pair<std::string, int>> m_rule_files; // id -> where defined
    std::map<std::string, std::pair<const SourceFile*, YAML::Node>> m_definition_nodes;
    mutable std::set<std::string> m_used;
    const NameValues* m_params = nullptr;
    std::map<std::string, NameInfo> m_param_infos;
    std::string m_current_rule;
    std::string m_current_condition;
    YAML::Node m_current_scalar;
    const SourceFile* m_current_file = nullptr;
    mutable std::map<std::string, std::vector<Edge>> m_edges; // see owner()
};

// Maps a position inside an expression to the file: the scalar's own
// position, plus one for an opening quote; block scalars (| or >) start on
// the next line at the content's indentation.
void Loader::report(const SourceFile& file, const YAML::Node& scalar, Position p,
                    const std::string& message, bool warning) {
    const YAML::Mark mark = scalar.Mark();
    int line = mark.line + 1;
    int column = mark.column + 1;
    const std::string& source = mark.line < static_cast<int>(file.lines.size())
                                    ? file.lines[static_cast<std::size_t>(mark.line)]
                                    : std::string();
    const char first = mark.column < static_cast<int>(source.size())
                           ? source[static_cast<std::size_t>(mark.column)]
                           : ' ';
    if (first == '|' || first == '>') {
        // The block's indentation is that of its first content line.
        const std::size_t first_line = static_cast<std::size_t>(mark.line) + 1;
        const std::string content =
            first_line < file.lines.size() ? file.lines[first_line] : std::string();
        line += p.line;
        column = static_cast<int>(content.find_first_not_of(' ')) + p.column;
    } else {
        const int quote = (first == '"' || first == '\'') ? 1 : 0;
        line += p.line - 1;
        column = p.line == 1 ? column + quote + p.column - 1 : p.column;
    }
    if (warning) {
        m_diagnostics.warning(file.name, line, column, message);
    } else {
        m_diagnostics.error(file.name, line, column, message);
    }
}

// A rule whose `when` or `applies_to` holds for no student with any of its
// parameter sets (its params, and each override's) can never fire.
void Loader::warn_if_never(const SourceFile& file, const YAML::Node& scalar, const Rule& rule,
                           const Expr& expr, const char* key) {
    std::optional<NeverHolds> first = never_holds(expr, rule.params);
    if (!first) {
        return;
    }
    for (const auto& o : rule.overrides) {
        if (!never_holds(expr, o.merged)) {
            return;
        }
    }
    report(file, scalar, first->position,
           "rule '" + rule.id + "' can never fire: its " + key + " never holds (" + first->reason +
               ")",
           true);
}

void Loader::warn_flagged_disabled() {
    std::set<std::string> disabled;
    for (const auto& r : m_set.rules) {
        if (!r.enabled) {
            disabled.insert(r.id);
        }
    }
    for (const auto& r : m_set.rules) {
        if (!r.enabled) {
            continue;
        }
        for (const auto& edge : m_edges[r.id]) {
            if (disabled.count(edge.target) != 0) {
                report(*edge.file, edge.scalar, edge.position,
                       "flagged(\"" + edge.target + "\") is always false in rule '" + r.id +
                           "': rule '" + edge.target + "' is disabled",
                       true);
            }
        }
    }
}

ExprPtr Loader::expression(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node,
                           Type expected, const std::string& what) {
    if (!node.IsScalar()) {
        reader.error(node, what + " must be an expression written as text");
        return nullptr;
    }
    Parsed parsed = parse_expression(node.Scalar());
    for (const auto& e : parsed.errors) {
        report(file, node, e.position, e.message);
    }
    if (!parsed.expr) {
        return nullptr;
    }
    // reset() rebinds; YAML::Node's operator= would assign through the old handle,
    // changing what every Edge copied from it refers to.
    m_current_scalar.reset(node);
    m_current_file = &file;
    const auto errors = check(*parsed.expr, *this, expected);
    for (const auto& e : errors) {
        report(file, node, e.position, e.message);
    }
    return errors.empty() ? std::move(parsed.expr) : nullptr;
}

void Loader::collect_ids(const SourceFile& file, core::YamlReader& reader,
                         const YAML::Node& rules) {
    if (!rules.IsSequence()) {
        reader.error(rules, "'rules' must be a list of rules");
        return;
    }
    for (const auto& rule : rules) {
        if (!rule.IsMap() || !rule["id"] || !rule["id"].IsScalar()) {
            continue; // reported when the rule is read
        }
        const std::string id = rule["id"].Scalar();
        const auto [it, inserted] =
            m_rule_files.emplace(id, std::make_pair(file.name, rule["id"].Mark().line + 1));
        if (!inserted) {
            reader.error(rule["id"], "duplicate rule id '" + id + "' (first defined at " +
                                         it->second.first + ":" +
                                         std::to_string(it->second.second) + ")");
        }
    }
}

bool Loader::already_defined(core::YamlReader& reader, const YAML::Node& key) {
    const std::string& name = key.Scalar();
    if (m_set.definitions.count(name) == 0 && m_builtins.count(name) == 0) {
        return false;
    }
    reader.error(key, "'" + name + "' is already defined");
    return true;
}

void Loader::read_constants(const SourceFile& file, core::YamlReader& reader,
                            const YAML::Node& node) {
    if (!node.IsMap()) {
        reader.error(node, "'constants' must map names to values");
        return;
    }
    for (const auto& entry : node) {
        const std::string name = entry.first.Scalar();
        if (already_defined(reader, entry.first)) {
            continue;
        }
        if (auto value = read_constant(reader, entry.second)) {
            m_set.definitions[name] = {NameInfo::Kind::constant, value->type, *value, nullptr};
            m_definition_nodes[name] = {&file, entry.first};
        }
    }
}

void Loader::read_conditions(const SourceFile& file, core::YamlReader& reader,
                             const YAML::Node& node) {
    if (!node.IsMap()) {
        reader.error(node, "'conditions' must map names to expressions");
        return;
    }
    // In order: a condition may use the conditions defined before it, so
    // conditions can never form a cycle.
    for (const auto& entry : node) {
        const std::string name = entry.first.Scalar();
        if (already_defined(reader, entry.first)) {
            continue;
        }
        m_current_rule.clear();
        m_current_condition = name;
        if (ExprPtr expr =
                expression(file, reader, entry.second, Type::boolean, "condition '" + name + "'")) {
            m_set.definitions[name] = {NameInfo::Kind::condition, Type::boolean, {}, expr.get()};
            m_definition_nodes[name] = {&file, entry.first};
            m_set.conditions.push_back(std::move(expr));
        }
    }
}

void Loader::read_rule(const SourceFile& file, core::YamlReader& reader, const YAML::Node& node) {
    if (!reader.check_map(node, "a rule", rule_keys)) {
        return;
    }
    Rule rule;
    rule.file = file.name;
    rule.line = node.Mark().line + 1;
    bool ok = true;
    for (const char* key : {"id", "name", "description", "domain", "tier", "when"}) {
        ok = reader.require(node, key) && ok;
    }
    if (!ok) {
        return;
    }
    if (auto id = reader.string(node["id"])) {
        if (!valid_id(*id)) {
            reader.error(node["id"], "rule id '" + *id +
                                         "' must be 1-64 characters of a-z, 0-9, "
                                         "'-' and '_'");
            ok = false;
        }
        rule.id = *id;
    }
    rule.name = reader.string(node["name"]).value_or("");
    rule.description = reader.string(node["description"]).value_or("");
    if (auto domain =
            reader.one_of(node["domain"], {"attendance", "behavior", "course", "composite"})) {
        rule.domain = *domain == "attendance" ? Domain::attendance
                      : *domain == "behavior" ? Domain::behavior
                      : *domain == "course"   ? Domain::course
                                              : Domain::composite;
    } else {
        ok = false;
    }
    if (auto tier = reader.integer(node["tier"], 1, 3)) {
        rule.tier = static_cast<int>(*tier);
    } else {
        ok = false;
    }
    rule.notify =
        node["notify"] ? reader.string(node["notify"]).value_or("") : to_string(rule.domain);
    if (node["enabled"]) {
        rule.enabled = reader.boolean(node["enabled"]).value_or(true);
    }
    if (node["for"]) {
        rule.for_days = static_cast<int>(reader.integer(node["for"], 0, 366).value_or(0));
    }
    if (node["params"]) {
        if (!node["params"].IsMap()) {
            reader.error(node["params"], "'params' must map names to values");
        } else {
            for (const auto& entry : node["params"]) {
                if (auto value = read_constant(reader, entry.second)) {
                    rule.params[entry.first.Scalar()] = *value;
                }
            }
        }
    }
    if (node["overrides"]) {
        if (!node["overrides"].IsSequence()) {
            reader.error(node["overrides"], "'overrides' must be a list");
        } else {
            for (const auto& o : node["overrides"]) {
                if (!reader.check_map(o, "an override", {"match", "params"}) ||
                    !reader.require(o, "match") || !reader.require(o, "params")) {
                    continue;
                }
                Override over;
                const YAML::Node match = o["match"];
                if (reader.check_map(match, "an override's match", {"schools", "grade_levels"})) {
                    for (const auto& s : match["schools"]) {
                        over.schools.push_back(reader.string(s).value_or(""));
                    }
                    for (const auto& g : match["grade_levels"]) {
                        over.grade_levels.push_back(
                            static_cast<int>(reader.integer(g, -1, 13).value_or(-2)));
                    }
                }
                if (o["params"].IsMap()) {
                    for (const auto& entry : o["params"]) {
                        const std::string name = entry.first.Scalar();
                        const auto base = rule.params.find(name);
                        auto value = read_constant(reader, entry.second);
                        if (base == rule.params.end()) {
                            reader.error(entry.first,
                                         "override of '" + name +
                                             "', which is not one of the rule's params");
                        } else if (value && value->type != base->second.type) {
                            reader.error(entry.second, std::string("override of '") + name +
                                                           "' must be a " +
                                                           to_string(base->second.type));
                        } else if (value) {
                            over.params[name] = *value;
                        }
                    }
                }
                over.merged = rule.params;
                for (const auto& [param, value] : over.params) {
                    over.merged[param] = value;
                }
                rule.overrides.push_back(std::move(over));
            }
        }
    }

    m_current_rule = rule.id;
    m_params = &rule.params;
    m_param_infos.clear();
    for (const auto& [name, value] : rule.params) {
        m_param_infos[name] = {NameInfo::Kind::constant, value.type, value, nullptr};
    }
    rule.when = expression(file, reader, node["when"], Type::boolean, "'when'");
    if (node["applies_to"]) {
        rule.applies_to =
            expression(file, reader, node["applies_to"], Type::boolean, "'applies_to'");
        ok = ok && rule.applies_to;
    }
    if (node["resolve_when"]) {
        rule.resolve_when =
            expression(file, reader, node["resolve_when"], Type::boolean, "'resolve_when'");
        ok = ok && rule.resolve_when;
    }
    m_params = nullptr;
    m_param_infos.clear();
    if (ok && rule.when && rule.enabled) {
        warn_if_never(file, node["when"], rule, *rule.when, "'when'");
        if (rule.applies_to) {
            warn_if_never(file, node["applies_to"], rule, *rule.applies_to, "'applies_to'");
        }
    }
    if (ok && rule.when) {
        m_set.rules.push_back(std::move(rule));
    }
}

void Loader::order_rules() {
    // Composite rules after the rules they ask about; a cycle is an error.
    auto& rules = m_set.rules;
    std::stable_partition(rules.begin(), rules.end(),
                          [](const Rule& r) { return r.domain != Domain::composite; });
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        index[rules[i].id] = i;
    }
    enum class Mark { unvisited, visiting, done };
    std::vector<Mark> marks(rules.size(), Mark::unvisited);
    std::vector<std::size_t> order;
    const std::function<bool(std::size_t)> visit = [&](std::size_t i) -> bool {
        if (marks[i] != Mark::unvisited) {
            return marks[i] == Mark::done;
        }
        marks[i] = Mark::visiting;
        for (const auto& edge : m_edges[rules[i].id]) {
            const auto it = index.find(edge.target);
            if (it != index.end() && !visit(it->second)) {
                report(*edge.file, edge.scalar, edge.position,
                       "rules '" + rules[i].id + "' and '" + edge.target +
                           "' depend on each other through flagged(): a cycle");
                marks[i] = Mark::done;
                return false;
            }
        }
        marks[i] = Mark::done;
        order.push_back(i);
        return true;
    };
    for (std::size_t i = 0; i < rules.size(); ++i) {
        visit(i);
    }
    std::vector<Rule> ordered;
    for (const std::size_t i : order) {
        ordered.push_back(std::move(rules[i]));
    }
    rules = std::move(ordered);
}

void Loader::load(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<SourceFile> sources;
    std::vector<YAML::Node> roots;
    sources.reserve(files.size());
    for (const auto& [name, text] : files) {
        SourceFile source{name, {}};
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            source.lines.push_back(line);
        }
        core::YamlReader reader(name, m_diagnostics);
        auto root = reader.parse(text);
        if (!root || root->IsNull()) {
            continue;
        }
        sources.push_back(std::move(source));
        roots.push_back(*root);
    }
    // Collect: rule ids and constants first, so any rule may refer to any other.
    for (std::size_t i = 0; i < sources.size(); ++i) {
        core::YamlReader reader(sources[i].name, m_diagnostics);
        const YAML::Node& root = roots[i];
        if (root.IsSequence()) {
            collect_ids(sources[i], reader, root);
            continue;
        }
        if (!reader.check_map(root, "a rule file", {"constants", "conditions", "rules"})) {
            continue;
        }
        if (root["rules"]) {
            collect_ids(sources[i], reader, root["rules"]);
        }
        if (root["constants"]) {
            read_constants(sources[i], reader, root["constants"]);
        }
    }
    for (std::size_t i = 0; i < sources.size(); ++i) {
        core::YamlReader reader(sources[i].name, m_diagnostics);
        if (roots[i].IsMap() && roots[i]["conditions"]) {
            read_conditions(sources[i], reader, roots[i]["conditions"]);
        }
    }
    for (std::size_t i = 0; i < sources.size(); ++i) {
        core::YamlReader reader(sources[i].name, m_diagnostics);
        const YAML::Node rules = roots[i].IsSequence() ? roots[i] : roots[i]["rules"];
        if (rules && rules.IsSequence()) {
            for (const auto& rule : rules) {
                read_rule(sources[i], reader, rule);
            }
        }
    }
    for (const auto& [name, where] : m_definition_nodes) {
        if (m_used.count(name) == 0) {
            const YAML::Mark mark = where.second.Mark();
            m_diagnostics.warning(where.first->name, mark.line + 1, mark.column + 1,
                                  "'" + name + "' is defined but never used");
        }
    }
    order_rules();
    warn_flagged_disabled();
}

} // namespace

const NameValues& Rule::params_for(const std::string& school_id, int grade_level) const {
    for (const auto& o : overrides) {
        const bool school_ok = o.schools.empty() || std::find(o.schools.begin(), o.schools.end(),
                                                              school_id) != o.schools.end();
        const bool grade_ok =
            o.grade_levels.empty() || std::find(o.grade_levels.begin(), o.grade_levels.end(),
                                                grade_level) != o.grade_levels.end();
        if (school_ok && grade_ok) {
            return o.merged; // the first matching override wins
        }
    }
    return params;
}

const char* to_string(Domain domain) {
    switch (domain) {
    case Domain::attendance:
        return "attendance";
    case Domain::behavior:
        return "behavior";
    case Domain::course:
        return "course";
    case Domain::composite:
        return "composite";
    }
    return "?";
}

RuleLoad load_rule_texts(const std::vector<std::pair<std::string, std::string>>& files) {
    RuleLoad load;
    Loader loader(load.diagnostics);
    loader.load(files);
    if (!load.diagnostics.has_errors()) {
        load.rules = loader.take();
    }
    return load;
}

RuleLoad load_rules(const std::filesystem::path& rules_dir) {
    std::vector<std::pair<std::string, std::string>> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(rules_dir, ec)) {
        RuleLoad load;
        load.diagnostics.error(rules_dir.string(), 0, 0, "the rules folder does not exist");
        return load;
    }
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(rules_dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
            paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        files.emplace_back(p.string(), text.str());
    }
    return load_rule_texts(files);
}

} // namespace ewsd::rules
