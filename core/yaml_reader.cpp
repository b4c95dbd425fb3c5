#include "core/yaml_reader.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace ewsd::core {

namespace {

int line_of(const YAML::Mark& mark) {
    return mark.is_null() ? 0 : mark.line + 1;
}
int column_of(const YAML::Mark& mark) {
    return mark.is_null() ? 0 : mark.column + 1;
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return "a map";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Null:
        return "nothing";
    default:
        return "'" + node.Scalar() + "'";
    }
}

} // namespace

YamlReader::YamlReader(std::string file, util::Diagnostics& diagnostics)
    : m_file(std::move(file)),
      m_base_dir(std::filesystem::absolute(std::filesystem::path(m_file)).parent_path()),
      m_diagnostics(diagnostics) {}

std::optional<YAML::Node> YamlReader::parse(const std::string& text) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        m_diagnostics.error(m_file, line_of(e.mark), column_of(e.mark), "invalid YAML: " + e.msg);
        return std::nullopt;
    }
}

void YamlReader::error(const YAML::Node& node, const std::string& message) {
    const YAML::Mark mark = node.Mark();
    m_diagnostics.error(m_file, line_of(mark), column_of(mark), message);
}

void YamlReader::warning(const YAML::Node& node, const std::string& message) {
    const YAML::Mark mark = node.Mark();
    m_diagnostics.warning(m_file, line_of(mark), column_of(mark), message);
}

bool YamlReader::check_map(const YAML::Node& node, const std::string& what,
                           const std::vector<std::string>& known) {
    if (!node.IsMap()) {
        error(node, what + " must be a map, not " + describe(node));
        return false;
    }
    std::map<std::string, int> seen;
    for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        const std::string name = key.IsScalar() ? key.Scalar() : std::string();
        if (const auto it = seen.find(name); it != seen.end()) {
            error(key, "duplicate key '" + name + "' in " + what + " (first at line " +
                           std::to_string(it->second) + ")");
            continue;
        }
        seen.emplace(name, line_of(key.Mark()));
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string message = "unknown key '" + name + "' in " + what;
            const std::string suggestion = util::closest_match(name, known);
            if (!suggestion.empty()) {
                message += " (did you mean '" + suggestion + "'?)";
            }
            warning(key, message);
        }
    }
    return true;
}

bool YamlReader::require(const YAML::Node& map, const std::string& key) {
    if (map[key]) {
        return true;
    }
    error(map, "missing required key '" + key + "'");
    return false;
}

std::optional<std::string> YamlReader::expand_env(const YAML::Node& node, const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$') {
            out += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (i + 1 >= text.size() || text[i + 1] != '{') {
            out += '$';
            continue;
        }
        const auto close = text.find('}', i + 2);
        if (close == std::string::npos) {
            error(node, "unterminated '${' in '" + text + "' (write '$$' for a literal '$')");
            return std::nullopt;
        }
        const std::string name = text.substr(i + 2, close - i - 2);
        const bool valid =
            !name.empty() &&
            (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
            name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_") == std::string::npos;
        if (!valid) {
            error(node, "'${" + name + "}' is not a valid environment variable name");
            return std::nullopt;
        }
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) {
            error(node, "environment variable '" + name + "' is not set");
            return std::nullopt;
        }
        out += value;
        i = close;
    }
    return out;
}

std::optional<std::string> YamlReader::string(const YAML::Node& node) {
    if (node.IsScalar()) {
        return expand_env(node, node.Scalar());
    }
    if (node.IsMap() && node.size() == 1 && node["file"]) {
        const YAML::Node file_node = node["file"];
        if (!file_node.IsScalar()) {
            error(file_node, "'file' must be a path, not " + describe(file_node));
            return std::nullopt;
        }
        auto file = path(file_node);
        if (!file) {
            return std::nullopt;
        }
        std::ifstream in(*file, std::ios::binary);
        if (!in) {
            error(file_node,
                  "cannot read secret file '" + file->string() + "': " + std::strerror(errno));
            return std::nullopt;
        }
        std::ostringstream content;
        content << in.rdbuf();
        std::string value = content.str();
        if (!value.empty() && value.back() == '\n') {
            value.pop_back();
            if (!value.empty() && value.back() == '\r') {
                value.pop_back();
            }
        }
        return value;
    }
    error(node, "expected a string, ${ENV_VAR} or {file: PATH}, not " + describe(node));
    return std::nullopt;
}

std::optional<util::Date> YamlReader::date(const YAML::Node& node) {
    auto text = string(node);
    if (!text) {
        return std::nullopt;
    }
    auto date = util::parse_iso_date(*text);
    if (!date) {
        error(node, "expected a date as YYYY-MM-DD, not '" + *text + "'");
    }
    return date;
}

std::optional<long long> YamlReader::integer(const YAML::Node& node, long long min, long long max) {
    auto text = string(node);
    if (!text) {
        return std::nullopt;
    }
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || errno == ERANGE) {
        error(node, "expected a whole number, not '" + *text + "'");
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(node, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                        ", not " + *text);
        return std::nullopt;
    }
    return value;
}

std::optional<double> YamlReader::number(const YAML::Node& node, double min, double max,
                                         const std::string& what) {
    auto text = string(node);
    if (!text) {
        return std::nullopt;
    }
    try {
        std::size_t used = 0;
        const double value = std::stod(*text, &used);
        if (used == text->size() && value >= min && value <= max) {
            return value;
        }
    } catch (const std::exception&) {
    }
    char range[64];
    std::snprintf(range, sizeof range, " must be a number from %g to %g, not '", min, max);
    error(node, what + range + *text + "'");
    return std::nullopt;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node) {
    auto text = string(node);
    if (!text) {
        return std::nullopt;
    }
    if (*text == "true" || *text == "yes" || *text == "on") {
        return true;
    }
    if (*text == "false" || *text == "no" || *text == "off") {
        return false;
    }
    error(node, "expected true or false, not '" + *text + "'");
    return std::nullopt;
}

std::optional<std::string> YamlReader::one_of(const YAML::Node& node,
                                              const std::vector<std::string>& values) {
    auto text = string(node);
    if (!text) {
        return std::nullopt;
    }
    if (std::find(values.begin(), values.end(), *text) != values.end()) {
        return text;
    }
    std::string expected;
    for (const auto& v : values) {
        expected += (expected.empty() ? "" : ", ") + v;
    }
    std::string message = "'" + *text + "' is not one of " + expected;
    const std::string suggestion = util::closest_match(*text, values);
    if (!suggestion.empty()) {
        message += " (did you mean '" + suggestion + "'?)";
    }
    error(node, message);
    return std::nullopt;
}

std::optional<std::filesystem::path> YamlReader::path(const YAML::Node& node) {
    auto text = node.IsScalar() ? expand_env(node, node.Scalar()) : string(node);
    if (!text) {
        return std::nullopt;
    }
    if (text->empty()) {
        error(node, "expected a path, not an empty string");
        return std::nullopt;
    }
    std::filesystem::path p(*text);
    if (p.is_relative()) {
        p = m_base_dir / p;
    }
    return p.lexically_normal();
}

} // namespace ewsd::core
