#pragma once
// Notification settings (specialists, routes, ...) from inline YAML, as
// ewsd.yaml would give them; any diagnostic fails the test.

#include "core/notify_config.hpp"
#include "core/yaml_reader.hpp"
#include "util/diagnostic.hpp"

#include <gtest/gtest.h>
#include <string>

namespace ewsd::testing {

inline core::NotifyConfig parse_notify_config(const std::string& text) {
    util::Diagnostics diagnostics;
    core::YamlReader reader("ewsd.yaml", diagnostics);
    core::NotifyConfig config;
    auto root = reader.parse(text);
    EXPECT_TRUE(root);
    core::read_notify_config(reader, *root, config);
    for (const auto& d : diagnostics.items()) {
        ADD_FAILURE() << d.format();
    }
    return config;
}

} // namespace ewsd::testing
