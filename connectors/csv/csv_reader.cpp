#include "connectors/csv/csv_reader.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <unistd.h>

namespace ewsd::connectors::csv {

namespace {
constexpr std::size_t block_size = 1 << 20;
} // namespace

CsvReader::CsvReader(Source source, util::Sha256* hash)
    : m_source(std::move(source)), m_hash(hash), m_buffer(block_size) {}

CsvReader::Source CsvReader::from_string(std::string text) {
    auto data = std::make_shared<std::string>(std::move(text));
    auto offset = std::make_shared<std::size_t>(0);
    return [data, offset](char* buffer, std::size_t size) {
        const std::size_t n = std::min(size, data->size() - *offset);
        std::memcpy(buffer, data->data() + *offset, n);
        *offset += n;
        return n;
    };
}

CsvReader::Source CsvReader::from_fd(int fd) {
    return [fd](char* buffer, std::size_t size) -> std::size_t {
        for (;;) {
            const ssize_t n = ::read(fd, buffer, size);
            if (n >= 0) {
                return static_cast<std::size_t>(n);
            }
            if (errno != EINTR) {
                throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
            }
        }
    };
}

bool CsvReader::refill() {
    if (m_eof) {
        return false;
    }
    m_pos = 0;
    m_end = m_source(m_buffer.data(), m_buffer.size());
    if (m_end == 0) {
        m_eof = true;
        return false;
    }
    m_bytes_read += m_end;
    if (m_hash != nullptr) {
        m_hash->update(std::string_view(m_buffer.data(), m_end));
    }
    return true;
}

inline int CsvReader::peek() {
    if (m_pos == m_end && !refill()) {
        return eof;
    }
    return static_cast<unsigned char>(m_buffer[m_pos]);
}

inline int CsvReader::get() {
    const int c = peek();
    if (c == eof) {
        return eof;
    }
    ++m_pos;
    if (c == '\n' || (c == '\r' && peek() != '\n')) {
        ++m_line; // LF, CRLF (at its LF) and a lone CR each end a line
        m_column = 1;
    } else if ((c & 0xC0) != 0x80) {
        ++m_column; // continuation bytes of a UTF-8 character do not count
    }
    return c;
}

void CsvReader::skip_rest_of_line() {
    for (int c = get(); c != eof && c != '\n' && !(c == '\r' && peek() != '\n'); c = get()) {
    }
}

CsvReader::Status CsvReader::fail(const std::string& message, int line, int column) {
    m_error = message;
    m_error_line = line;
    m_error_column = column;
    return Status::bad;
}

void CsvReader::end_field(int line, int column, std::size_t start) {
    m_positions.push_back({start, m_data.size() - start, line, column, false});
}

CsvReader::Status CsvReader::next() {
    if (!m_started) {
        m_started = true;
        // A UTF-8 byte order mark is not part of the first field.
        // The source may hand over fewer bytes per read than the mark's three.
        while (m_end < 3 && !m_eof) {
            const std::size_t n = m_source(m_buffer.data() + m_end, m_buffer.size() - m_end);
            if (n == 0) {
                m_eof = true;
                break;
            }
            if (m_hash != nullptr) {
                m_hash->update(std::string_view(m_buffer.data() + m_end, n));
            }
            m_bytes_read += n;
            m_end += n;
        }
        if (m_end - m_pos >= 3 && std::memcmp(m_buffer.data() + m_pos, "\xEF\xBB\xBF", 3) == 0) {
            m_pos += 3;
        }
    }
    for (;;) {
        if (peek() == eof) {
            return Status::end;
        }
        const Status status = parse_record();
        if (status != Status::record) {
            return status;
        }
        // A blank line is not a record.
        if (m_positions.size() == 1 && m_positions[0].length == 0 && !m_positions[0].quoted) {
            continue;
        }
        m_fields.clear();
        for (const auto& p : m_positions) {
            m_fields.push_back(
                {std::string_view(m_data).substr(p.start, p.length), p.line, p.column});
        }
        return Status::record;
    }
}

CsvReader::Status CsvReader::parse_record() {
    m_data.clear();
    m_positions.clear();
    m_record_line = m_line;
    for (;;) {
        const int line = m_line;
        const int column = m_column;
        const std::size_t start = m_data.size();
        int c = peek();
        if (c == '"') {
            get();
            for (;;) {
                c = get();
                if (c == eof) {
                    return fail("unterminated quoted field (the closing quote is missing)", line,
                                column);
                }
                if (c == 0) {
                    return Status::binary;
                }
                if (c == '"') {
                    if (peek() == '"') {
                        get();
                        m_data += '"';
                        continue;
                    }
                    break;
                }
                m_data += static_cast<char>(c);
            }
            m_positions.push_back({start, m_data.size() - start, line, column, true});
            c = get();
            if (c == '\r' && peek() == '\n') {
                c = get();
            }
            if (c == ',') {
                continue;
            }
            if (c == '\n' || c == '\r' || c == eof) {
                return Status::record;
            }
            if (c == 0) {
                return Status::binary;
            }
            const int bad_line = m_line;
            const int bad_column = m_column - 1;
            skip_rest_of_line();
            return fail("unexpected character after the closing quote of a field", bad_line,
                        bad_column);
        }
        for (;;) {
            // Fast path: copy a run of ordinary bytes straight from the buffer.
            std::size_t run = m_pos;
            while (run < m_end) {
                const char b = m_buffer[run];
                if (b == ',' || b == '\n' || b == '\r' || b == '"' || b == '\0') {
                    break;
                }
                if ((static_cast<unsigned char>(b) & 0xC0) != 0x80) {
                    ++m_column;
                }
                ++run;
            }
            m_data.append(m_buffer.data() + m_pos, run - m_pos);
            m_pos = run;
            if (m_pos == m_end && peek() != eof) {
                continue; // the block ended inside the field: go on in the next one
            }
            c = get();
            if (c == ',') {
                end_field(line, column, start);
                break;
            }
            if (c == '\n' || c == eof) {
                end_field(line, column, start);
                return Status::record;
            }
            if (c == '\r') {
                if (peek() == '\n') {
                    get();
                }
                end_field(line, column, start);
                return Status::record;
            }
            if (c == 0) {
                return Status::binary;
            }
            if (c == '"') {
                const int bad_line = m_line;
                const int bad_column = m_column - 1;
                skip_rest_of_line();
                return fail("unexpected quote inside an unquoted field (quote the whole field "
                            "and double the quote)",
                            bad_line, bad_column);
            }
        }
    }
}

} // namespace ewsd::connectors::csv
