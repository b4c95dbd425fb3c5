#pragma once
// Reads typed values out of yaml-cpp nodes, reporting every problem with the
// node's file:line:column into one Diagnostics list instead of throwing, so a
// check prints all problems at once. Shared by the config and rule loaders.

#include "util/date.hpp"
#include "util/diagnostic.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace ewsd::core {

class YamlReader {
public:
    YamlReader(std::string file, util::Diagnostics& diagnostics);

    // Parses a whole document; a syntax error is reported and yields nullopt.
    std::optional<YAML::Node> parse(const std::string& text);

    void error(const YAML::Node& node, const std::string& message);
    void warning(const YAML::Node& node, const std::string& message);

    // Warns about keys not in `known` (with a suggestion) and errors on duplicates.
    // Returns false when `node` is not a map.
    bool check_map(const YAML::Node& node, const std::string& what,
                   const std::vector<std::string>& known);
    bool require(const YAML::Node& map, const std::string& key);

    // A string value: a scalar with ${ENV_VAR} expanded, or {file: PATH}, whose
    // content (without its final newline) is the value.
    std::optional<std::string> string(const YAML::Node& node);
    std::optional<util::Date> date(const YAML::Node& node);
    std::optional<long long> integer(const YAML::Node& node, long long min, long long max);
    // A number in [min, max]; otherwise "<what> must be a number from <min> to <max>, not '…'".
    std::optional<double> number(const YAML::Node& node, double min, double max,
                                 const std::string& what);
    std::optional<bool> boolean(const YAML::Node& node);
    std::optional<std::string> one_of(const YAML::Node& node,
                                      const std::vector<std::string>& values);
    // A path; relative paths resolve against the folder of the file being read.
    std::optional<std::filesystem::path> path(const YAML::Node& node);

    [[nodiscard]] const std::string& file() const { return m_file; }

private:
    std::optional<std::string> expand_env(const YAML::Node& node, const std::string& text);

    std::string m_file;
    std::filesystem::path m_base_dir;
    util::Diagnostics& m_diagnostics;
};

} // namespace ewsd::core
