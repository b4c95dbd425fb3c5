#pragma once
// Turns CSV records into store records for one file kind: finds the columns by
// header name (any order, extra columns ignored or kept as student
// attributes), validates every value and maps local codes to Ed-Fi code values.

#include "connectors/csv/csv_reader.hpp"
#include "core/config.hpp"
#include "store/file_load.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ewsd::connectors::csv {

using Record = std::variant<store::Enrollment, store::AttendanceEvent, store::Grade,
                            store::Incident, store::CalendarDay>;

struct BadField {
    int line = 0;
    int column = 0;
    std::string message;
};

// The file name a kind is read from, e.g. "attendance.csv".
std::string file_name(store::RecordKind kind);

class RecordParser {
public:
    RecordParser(store::RecordKind kind, const core::FeedConfig& feed);

    // Reads the header row; an error means the file must be rejected whole.
    std::optional<std::string> read_header(const std::vector<Field>& header);

    // Fills `out` from one record, or says which field is wrong.
    std::optional<BadField> parse(const std::vector<Field>& fields, Record& out) const;

private:
    struct Column {
        const char* name;
        bool required;
    };
    [[nodiscard]] const std::vector<Column>& columns() const;
    [[nodiscard]] int index(const char* name) const;

    store::RecordKind m_kind;
    const core::FeedConfig& m_feed;
    std::vector<int> m_index;                         // by position in columns(); -1 when absent
    std::vector<std::pair<std::string, int>> m_extra; // students.csv attributes
    std::size_t m_width = 0;
};

} // namespace ewsd::connectors::csv
