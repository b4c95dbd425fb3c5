#pragma once
// A streaming RFC 4180 reader: reads a file in blocks and yields one record at
// a time, so memory stays flat whatever the file size. Handles a UTF-8 BOM,
// CRLF or LF line ends, quoted fields with doubled quotes and embedded line
// breaks. Every field knows the 1-based line and column where it starts
// (columns count characters, not bytes).

#include "util/sha256.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ewsd::connectors::csv {

struct Field {
    std::string_view value;
    int line = 0;
    int column = 0;
};

class CsvReader {
public:
    // Fills `buffer` with up to `size` bytes; returns 0 at the end.
    using Source = std::function<std::size_t(char* buffer, std::size_t size)>;

    enum class Status {
        record, // fields() holds the next record
        bad,    // a malformed record was skipped: error(), error_line(), error_column()
        binary, // the input holds NUL bytes: it is not a CSV file
        end,
    };

    explicit CsvReader(Source source, util::Sha256* hash = nullptr);

    Status next();

    [[nodiscard]] const std::vector<Field>& fields() const { return m_fields; }
    // Line where the current (or skipped) record starts.
    [[nodiscard]] int record_line() const { return m_record_line; }
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] int error_line() const { return m_error_line; }
    [[nodiscard]] int error_column() const { return m_error_column; }
    [[nodiscard]] std::uint64_t bytes_read() const { return m_bytes_read; }

    static Source from_string(std::string text);
    // Reads a file descriptor (not owned).
    static Source from_fd(int fd);

private:
    static constexpr int eof = -1;

    int peek();
    int get();
    bool refill();
    Status parse_record();
    Status fail(const std::string& message, int line, int column);
    void skip_rest_of_line();
    void end_field(int line, int column, std::size_t start);

    Source m_source;
    util::Sha256* m_hash;
    std::vector<char> m_buffer;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
    bool m_eof = false;
    bool m_started = false;
    std::uint64_t m_bytes_read = 0;

    int m_line = 1;
    int m_column = 1;
    int m_record_line = 0;

    std::string m_data;
    struct FieldPos {
        std::size_t start;
        std::size_t length;
        int line;
        int column;
        bool quoted;
    };
    std::vector<FieldPos> m_positions;
    std::vector<Field> m_fields;

    std::string m_error;
    int m_error_line = 0;
    int m_error_column = 0;
};

} // namespace ewsd::connectors::csv
