#pragma once
// The Ed-Fi resources ewsd reads, and how one API record is reduced to the
// fields ewsd uses (a staged record): the one place that knows the API's JSON
// shapes, Data Standard 4 and 5 alike.

#include "store/edfi_staging.hpp"
#include "store/file_load.hpp"

#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

namespace ewsd::connectors::edfi {

struct Resource {
    const char* name;       // the API's resource name, e.g. "studentSchoolAttendanceEvents"
    store::RecordKind kind; // the store rows it contributes to
    // How a change to one of its records spreads: to the student it is about
    // (lookup is a student id), to the school (lookup is a school id), or to
    // every row of the kind (reference data, such as courses).
    enum class Scope { student, school, all } scope;
};

// In the order they are synced (reference data before what refers to it).
const std::vector<Resource>& resources();

// The resource a kind of store rows is derived from, record by record.
const char* primary_resource(store::RecordKind kind);

// Which part of the API's data a feed reads.
struct Filter {
    int school_year = 0;
    std::set<std::string> schools; // empty: all
    int data_standard = 5;
    std::set<std::string> grade_types; // lower-case code values
};

struct Extracted {
    enum class Status {
        staged,   // `record` holds what ewsd keeps
        filtered, // outside the school year, the schools or the grade types
        bad,      // a required field is missing or malformed: `problem` says which
    } status = Status::bad;
    store::StagedRecord record;
    std::string problem;
};

Extracted extract(const Resource& resource, const nlohmann::json& item, const Filter& filter);

// The derivation a change to a staged record of `resource` leaves pending.
store::PendingScope pending_for(const Resource& resource, const store::StagedRecord& record);

// The part after '#' of a descriptor URI (or the text itself).
std::string code_value(const std::string& descriptor);

// Lookup keys shared by extraction and derivation.
std::string join_key(std::initializer_list<std::string> parts);

} // namespace ewsd::connectors::edfi
