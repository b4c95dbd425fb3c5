#pragma once
// A fixture for tests of the real ewsd binary: a temp folder holding the basic
// feed fixture (tests/data/feeds/basic), the default rules, and an ewsd.yaml
// over them (templates from config/templates); ewsd() runs the binary with that config.

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace ewsd::testing {

class BasicDistrict : public ::testing::Test {
protected:
    const std::string source = EWSD_SOURCE_DIR;
    // The config every such test starts from; tests append their own keys.
    const std::string base_config =
        "database: state/ewsd.db\n"
        "rules_dir: rules.d\n"
        "timezone: America/Chicago\n"
        "school_year_start: 2025-08-18\n"
        "feeds:\n"
        "  - {name: sis, type: csv, path: feeds, settle_seconds: 0,\n"
        "     category_map: {A: Unexcused Absence, EX: Excused Absence}}\n";

    const std::string templates_line = "templates_dir: " + source + "/config/templates\n";

    // Copies the feeds and the default rules; ewsd.yaml = base_config + extra.
    void make_district(const std::string& extra_config = "") {
        std::filesystem::copy(source + "/tests/data/feeds/basic", dir / "feeds");
        std::filesystem::create_directories(dir / "rules.d");
        std::filesystem::copy(source + "/config/rules.d/10-abc.yaml", dir / "rules.d/10-abc.yaml");
        // The templates last, so that tests' line numbers count from base_config.
        write_file(dir / "ewsd.yaml", base_config + extra_config + templates_line);
    }

    ProcessResult ewsd(std::vector<std::string> args) {
        args.insert(args.begin(), EWSD_BINARY);
        args.push_back("--config");
        args.push_back((dir / "ewsd.yaml").string());
        return run(args);
    }

    TempDir dir;
};

} // namespace ewsd::testing
