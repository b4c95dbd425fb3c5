// The streaming CSV reader: values, exact 1-based line:column of every field,
// line ends, quoting, bad records, binary input, hashing and block boundaries.
#include "connectors/csv/csv_reader.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <memory>
#include <unistd.h>

namespace ewsd::connectors::csv {
namespace {

using ::testing::ElementsAre;
using Status = CsvReader::Status;

constexpr std::size_t block = 1 << 20;

// "value@line:column" for each field, so a failing comparison shows everything.
std::vector<std::string> describe(const std::vector<Field>& fields) {
    std::vector<std::string> out;
    for (const auto& f : fields) {
        out.push_back(std::string(f.value) + "@" + std::to_string(f.line) + ":" +
                      std::to_string(f.column));
    }
    return out;
}

// Every record, or "bad line:column: message", or "binary", until the end.
std::vector<std::string> read_all(CsvReader& reader) {
    std::vector<std::string> out;
    for (;;) {
        const Status status = reader.next();
        if (status == Status::end) {
            return out;
        }
        if (status == Status::binary) {
            out.emplace_back("binary");
            return out;
        }
        if (status == Status::bad) {
            out.push_back("bad " + std::to_string(reader.error_line()) + ":" +
                          std::to_string(reader.error_column()) + ": " + reader.error());
            continue;
        }
        std::string row;
        for (const auto& f : describe(reader.fields())) {
            row += (row.empty() ? "" : " | ") + f;
        }
        out.push_back(row);
    }
}

std::vector<std::string> read_all(const std::string& text) {
    CsvReader reader(CsvReader::from_string(text));
    return read_all(reader);
}

// A source that hands over at most `chunk` bytes per call.
CsvReader::Source chunked(std::string text, std::size_t chunk) {
    auto data = std::make_shared<std::string>(std::move(text));
    auto offset = std::make_shared<std::size_t>(0);
    return [data, offset, chunk](char* buffer, std::size_t size) {
        const std::size_t n = std::min({size, chunk, data->size() - *offset});
        std::memcpy(buffer, data->data() + *offset, n);
        *offset += n;
        return n;
    };
}

std::string sha256(const std::string& text) {
    util::Sha256 hash;
    hash.update(text);
    return hash.hex_digest();
}

// --- records and positions ---

TEST(CsvReader, SimpleRecordsWithPositions) {
    CsvReader reader(CsvReader::from_string("id,name,grade\n1,Ana,7\n22,Bo,8\n"));
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("id@1:1", "name@1:4", "grade@1:9"));
    EXPECT_EQ(reader.record_line(), 1);
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("1@2:1", "Ana@2:3", "7@2:7"));
    EXPECT_EQ(reader.record_line(), 2);
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("22@3:1", "Bo@3:4", "8@3:7"));
    EXPECT_EQ(reader.record_line(), 3);
    EXPECT_EQ(reader.next(), Status::end);
    EXPECT_EQ(reader.next(), Status::end);
}

TEST(CsvReader, EmptyInputHasNoRecords) {
    EXPECT_THAT(read_all(""), ElementsAre());
}

TEST(CsvReader, ByteOrderMarkIsSkipped) {
    const std::string text = "\xEF\xBB\xBFid,name\n1,Ana\n";
    CsvReader reader(CsvReader::from_string(text));
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("id@1:1", "name@1:4"));
    EXPECT_EQ(read_all(reader), std::vector<std::string>{"1@2:1 | Ana@2:3"});
    EXPECT_EQ(reader.bytes_read(), text.size());
}

TEST(CsvReader, ByteOrderMarkOnlyIsEmpty) {
    EXPECT_THAT(read_all("\xEF\xBB\xBF"), ElementsAre());
}

TEST(CsvReader, ByteOrderMarkBeforeAQuotedField) {
    EXPECT_THAT(read_all("\xEF\xBB\xBF\"id\",x\n"), ElementsAre("id@1:1 | x@1:6"));
}

// --- line ends ---

TEST(CsvReader, LfLineEnds) {
    EXPECT_THAT(read_all("a,b\nc,d\n"), ElementsAre("a@1:1 | b@1:3", "c@2:1 | d@2:3"));
}

TEST(CsvReader, CrlfLineEndsAreNotPartOfTheValue) {
    EXPECT_THAT(read_all("a,b\r\nc,d\r\n"), ElementsAre("a@1:1 | b@1:3", "c@2:1 | d@2:3"));
}

TEST(CsvReader, LoneCrEndsALine) {
    EXPECT_THAT(read_all("a,b\rc,d\r"), ElementsAre("a@1:1 | b@1:3", "c@2:1 | d@2:3"));
}

TEST(CsvReader, MixedLineEnds) {
    EXPECT_THAT(read_all("a\r\nb\nc\rd"), ElementsAre("a@1:1", "b@2:1", "c@3:1", "d@4:1"));
}

TEST(CsvReader, QuotedFieldBeforeEachLineEnd) {
    EXPECT_THAT(read_all("\"a\"\r\n\"b\"\n\"c\"\r\"d\""),
                ElementsAre("a@1:1", "b@2:1", "c@3:1", "d@4:1"));
}

TEST(CsvReader, LastRecordWithoutLineEnd) {
    EXPECT_THAT(read_all("a,b\nc,d"), ElementsAre("a@1:1 | b@1:3", "c@2:1 | d@2:3"));
}

TEST(CsvReader, LastRecordEndingInEmptyField) {
    EXPECT_THAT(read_all("a,"), ElementsAre("a@1:1 | @1:3"));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
    EXPECT_THAT(read_all("a\n\n\r\n\nb\n\n"), ElementsAre("a@1:1", "b@5:1"));
}

TEST(CsvReader, BlankLinesAtTheStartAreSkipped) {
    CsvReader reader(CsvReader::from_string("\n\nid\n"));
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("id@3:1"));
    EXPECT_EQ(reader.record_line(), 3);
}

// --- fields ---

TEST(CsvReader, EmptyFields) {
    EXPECT_THAT(read_all(",,\na,,b\n"), ElementsAre("@1:1 | @1:2 | @1:3", "a@2:1 | @2:3 | b@2:4"));
}

TEST(CsvReader, QuotedEmptyFieldIsARecordNotABlankLine) {
    EXPECT_THAT(read_all("\"\"\nx\n"), ElementsAre("@1:1", "x@2:1"));
}

TEST(CsvReader, SpacesAreKept) {
    EXPECT_THAT(read_all(" a , b\n"), ElementsAre(" a @1:1 |  b@1:5"));
}

TEST(CsvReader, QuotedFieldWithCommas) {
    EXPECT_THAT(read_all("\"Garcia, Ana\",7\n"), ElementsAre("Garcia, Ana@1:1 | 7@1:15"));
}

TEST(CsvReader, DoubledQuotesBecomeOneQuote) {
    // "Bo ""Bobby""" is 14 characters: the next field starts at column 16.
    EXPECT_THAT(read_all("\"Bo \"\"Bobby\"\"\",1\n"), ElementsAre("Bo \"Bobby\"@1:1 | 1@1:16"));
}

TEST(CsvReader, FieldThatIsOnlyADoubledQuote) {
    EXPECT_THAT(read_all("\"\"\"\"\n"), ElementsAre("\"@1:1"));
}

TEST(CsvReader, EmbeddedLfInQuotedField) {
    EXPECT_THAT(read_all("\"line1\nline2\",x\nnext,y\n"),
                ElementsAre("line1\nline2@1:1 | x@2:8", "next@3:1 | y@3:6"));
}

TEST(CsvReader, EmbeddedCrlfInQuotedFieldIsKept) {
    EXPECT_THAT(read_all("\"a\r\nb\",c\r\nd,e\r\n"),
                ElementsAre("a\r\nb@1:1 | c@2:4", "d@3:1 | e@3:3"));
}

TEST(CsvReader, SeveralEmbeddedLineBreaksAdvanceTheRecordLine) {
    CsvReader reader(CsvReader::from_string("id,note\n1,\"a\n\nb\nc\"\n2,x\n"));
    ASSERT_EQ(reader.next(), Status::record);
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_EQ(reader.record_line(), 2);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("1@2:1", "a\n\nb\nc@2:3"));
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_EQ(reader.record_line(), 6);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("2@6:1", "x@6:3"));
}

// The reader treats a lone CR as a line end between records; one inside a
// quoted field is a line break too, so later positions must count it.
TEST(CsvReader, EmbeddedLoneCrCountsAsALineBreak) {
    EXPECT_THAT(read_all("\"a\rb\",c\rd,e\r"), ElementsAre("a\rb@1:1 | c@2:4", "d@3:1 | e@3:3"));
}

// --- columns count characters ---

TEST(CsvReader, ColumnsCountUtf8CharactersNotBytes) {
    // é and ü are two bytes each, 日 and 本 three, 😀 four.
    EXPECT_THAT(read_all("\xC3\xA9,\xC3\xBC,x\n\xE6\x97\xA5\xE6\x9C\xAC,y\n\xF0\x9F\x98\x80,z\n"),
                ElementsAre("\xC3\xA9@1:1 | \xC3\xBC@1:3 | x@1:5",
                            "\xE6\x97\xA5\xE6\x9C\xAC@2:1 | y@2:4",
                            "\xF0\x9F\x98\x80@3:1 | z@3:3"));
}

TEST(CsvReader, ColumnsCountCharactersInsideQuotes) {
    EXPECT_THAT(read_all("\"Jos\xC3\xA9\",x\n"), ElementsAre("Jos\xC3\xA9@1:1 | x@1:8"));
}

// --- bad records ---

TEST(CsvReader, UnterminatedQuoteAtEndPointsAtTheFieldStart) {
    CsvReader reader(CsvReader::from_string("a,b\n1,\"open\n2,3\n"));
    ASSERT_EQ(reader.next(), Status::record);
    ASSERT_EQ(reader.next(), Status::bad);
    EXPECT_EQ(reader.error(), "unterminated quoted field (the closing quote is missing)");
    EXPECT_EQ(reader.error_line(), 2);
    EXPECT_EQ(reader.error_column(), 3);
    EXPECT_EQ(reader.record_line(), 2);
    EXPECT_EQ(reader.next(), Status::end);
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsBadAndReadingGoesOn) {
    CsvReader reader(CsvReader::from_string("a,b\"c,d\nx,y\n"));
    ASSERT_EQ(reader.next(), Status::bad);
    EXPECT_EQ(reader.error(), "unexpected quote inside an unquoted field (quote the whole field "
                              "and double the quote)");
    EXPECT_EQ(reader.error_line(), 1);
    EXPECT_EQ(reader.error_column(), 4);
    EXPECT_EQ(reader.record_line(), 1);
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_THAT(describe(reader.fields()), ElementsAre("x@2:1", "y@2:3"));
    EXPECT_EQ(reader.next(), Status::end);
}

TEST(CsvReader, QuoteAfterMultibyteCharacterHasCharacterColumn) {
    EXPECT_THAT(read_all("id\n\xC3\xA9\xC3\xA9\"x\nok\n"),
                ElementsAre("id@1:1",
                            "bad 2:3: unexpected quote inside an unquoted field (quote the whole "
                            "field and double the quote)",
                            "ok@3:1"));
}

TEST(CsvReader, QuoteInsideUnquotedFieldWithCrlf) {
    EXPECT_THAT(read_all("a\"b\r\nx\r\n"),
                ElementsAre("bad 1:2: unexpected quote inside an unquoted field (quote the whole "
                            "field and double the quote)",
                            "x@2:1"));
}

// After a bad record the reader skips to the next line; with lone-CR line
// ends that is the next CR, not the rest of the file.
TEST(CsvReader, BadRecordWithLoneCrLineEndsSkipsOnlyItsLine) {
    EXPECT_THAT(read_all("a\"b\rx,y\rz\r"),
                ElementsAre("bad 1:2: unexpected quote inside an unquoted field (quote the whole "
                            "field and double the quote)",
                            "x@2:1 | y@2:3", "z@3:1"));
}

TEST(CsvReader, GarbageAfterClosingQuoteIsBad) {
    EXPECT_THAT(
        read_all("\"ab\"c,d\nx\n"),
        ElementsAre("bad 1:5: unexpected character after the closing quote of a field", "x@2:1"));
}

TEST(CsvReader, SpaceAfterClosingQuoteIsBad) {
    EXPECT_THAT(
        read_all("1,\"ab\" ,d\n2\n"),
        ElementsAre("bad 1:7: unexpected character after the closing quote of a field", "2@2:1"));
}

TEST(CsvReader, GarbageAfterMultilineQuotedFieldPointsAtItsLine) {
    EXPECT_THAT(
        read_all("\"a\nbc\"x\nok\n"),
        ElementsAre("bad 2:4: unexpected character after the closing quote of a field", "ok@3:1"));
}

// --- binary input ---

TEST(CsvReader, NulByteMeansBinary) {
    CsvReader reader(CsvReader::from_string(std::string("a,b\nc\0d,e\n", 10)));
    ASSERT_EQ(reader.next(), Status::record);
    EXPECT_EQ(reader.next(), Status::binary);
}

TEST(CsvReader, NulByteInQuotedFieldMeansBinary) {
    EXPECT_THAT(read_all(std::string("\"a\0b\"\n", 7)), ElementsAre("binary"));
}

TEST(CsvReader, NulByteAfterClosingQuoteMeansBinary) {
    EXPECT_THAT(read_all(std::string("\"ab\"\0\n", 6)), ElementsAre("binary"));
}

// --- bytes and hash ---

TEST(CsvReader, BytesReadIsTheWholeInput) {
    const std::string text = "\xEF\xBB\xBFid,name\r\n1,\"Ana\"\r\n";
    CsvReader reader(CsvReader::from_string(text));
    EXPECT_EQ(reader.bytes_read(), 0U);
    read_all(reader);
    EXPECT_EQ(reader.bytes_read(), text.size());
}

TEST(CsvReader, HashCoversTheWholeInput) {
    const std::string text = "\xEF\xBB\xBFid,name\n1,\"Ana\"\n2,Bo";
    util::Sha256 hash;
    CsvReader reader(CsvReader::from_string(text), &hash);
    read_all(reader);
    EXPECT_EQ(hash.hex_digest(), sha256(text));
}

// --- block boundaries ---

// Complete lines of filler ("p,xxx...\n") adding up to exactly `size` bytes.
std::string filler(std::size_t size, int& lines) {
    std::string out;
    lines = 0;
    while (size - out.size() > 200) {
        out += "p," + std::string(97, 'x') + "\n";
        ++lines;
    }
    out += "p," + std::string(size - out.size() - 3, 'y') + "\n";
    ++lines;
    return out;
}

TEST(CsvReader, QuotedFieldWithLineBreakAcrossTheBlockBoundary) {
    // The opening quote sits a little before byte 1 MiB, so the field (and,
    // for some offsets, its embedded newline) straddles the first block.
    for (std::size_t before = 1; before <= 8; ++before) {
        SCOPED_TRACE("quote " + std::to_string(before) + " bytes before the boundary");
        const std::string head = "id,text\n";
        int lines = 0;
        std::string text = head + filler(block - before - 2 - head.size(), lines);
        text += "q,\"abc\ndef\",z\nlast,row\n";
        ASSERT_EQ(text.find("\"abc"), block - before);
        const int q_line = 1 + lines + 1;

        util::Sha256 hash;
        CsvReader reader(CsvReader::from_string(text), &hash);
        int records = 0;
        Status status = Status::end;
        while ((status = reader.next()) == Status::record && reader.fields()[0].value != "q") {
            ++records;
        }
        ASSERT_EQ(status, Status::record);
        EXPECT_EQ(records, 1 + lines);
        EXPECT_THAT(describe(reader.fields()),
                    ElementsAre("q@" + std::to_string(q_line) + ":1",
                                "abc\ndef@" + std::to_string(q_line) + ":3",
                                "z@" + std::to_string(q_line + 1) + ":6"));
        ASSERT_EQ(reader.next(), Status::record);
        EXPECT_THAT(describe(reader.fields()),
                    ElementsAre("last@" + std::to_string(q_line + 2) + ":1",
                                "row@" + std::to_string(q_line + 2) + ":6"));
        EXPECT_EQ(reader.next(), Status::end);
        EXPECT_EQ(reader.bytes_read(), text.size());
        EXPECT_EQ(hash.hex_digest(), sha256(text));
    }
}

TEST(CsvReader, UnquotedFieldAcrossTheBlockBoundary) {
    const std::string head = "id,text\n";
    int lines = 0;
    std::string text = head + filler(block - 4 - head.size(), lines);
    // The field starts at byte 1 MiB - 2; the two bytes of its 'é' straddle the boundary.
    text += "u,J\xC3\xA9r\xC3\xB4me Smith,v\r\nlast\r\n";
    ASSERT_EQ(text.substr(block - 1, 2), "\xC3\xA9");
    CsvReader reader(CsvReader::from_string(text));
    auto rows = read_all(reader);
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(lines + 3));
    const std::string line = std::to_string(lines + 2);
    EXPECT_EQ(rows[rows.size() - 2],
              "u@" + line + ":1 | J\xC3\xA9r\xC3\xB4me Smith@" + line + ":3 | v@" + line + ":16");
    EXPECT_EQ(rows.back(), "last@" + std::to_string(lines + 3) + ":1");
}

TEST(CsvReader, CrlfSplitByTheBlockBoundary) {
    const std::string head = "id\n";
    int lines = 0;
    std::string text = head + filler(block - 4 - head.size(), lines);
    text += "abc\r\nnext\n"; // the CR is the last byte of the block, the LF the first of the next
    ASSERT_EQ(text[block - 1], '\r');
    const auto rows = read_all(text);
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(lines + 3));
    EXPECT_EQ(rows[rows.size() - 2], "abc@" + std::to_string(lines + 2) + ":1");
    EXPECT_EQ(rows.back(), "next@" + std::to_string(lines + 3) + ":1");
}

TEST(CsvReader, DoubledQuoteSplitByTheBlockBoundary) {
    const std::string head = "id\n";
    int lines = 0;
    std::string text = head + filler(block - 3 - head.size(), lines);
    text += "\"a\"\"b\"\nnext\n"; // the two quotes of "" are bytes 1 MiB - 1 and 1 MiB
    ASSERT_EQ(text.substr(block - 1, 2), "\"\"");
    const auto rows = read_all(text);
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(lines + 3));
    EXPECT_EQ(rows[rows.size() - 2], "a\"b@" + std::to_string(lines + 2) + ":1");
}

// --- other sources ---

TEST(CsvReader, OneByteAtATimeGivesTheSameRecords) {
    const std::string text =
        "id,name,note\r\n1,\"Garcia, Ana\",\"a\nb\"\r\n\n2,Jos\xC3\xA9,\"x\"\"y\"\r3,,";
    const auto expected = read_all(text);
    ASSERT_EQ(expected.size(), 4U);
    CsvReader reader(chunked(text, 1));
    EXPECT_EQ(read_all(reader), expected);
    EXPECT_EQ(reader.bytes_read(), text.size());
}

// from_fd may return fewer than three bytes on its first read (a pipe, a FIFO).
TEST(CsvReader, ByteOrderMarkIsSkippedWhenTheFirstReadIsShort) {
    for (const std::size_t chunk : {1U, 2U}) {
        SCOPED_TRACE(std::to_string(chunk) + " bytes per read");
        CsvReader reader(chunked("\xEF\xBB\xBFid,name\n1,Ana\n", chunk));
        EXPECT_THAT(read_all(reader), ElementsAre("id@1:1 | name@1:4", "1@2:1 | Ana@2:3"));
    }
}

TEST(CsvReader, ReadsAFileDescriptor) {
    const ewsd::testing::TempDir dir;
    const std::string text = "id,name\n1,Ana\n";
    ewsd::testing::write_file(dir / "students.csv", text);
    const int fd = ::open((dir / "students.csv").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    CsvReader reader(CsvReader::from_fd(fd));
    EXPECT_THAT(read_all(reader), ElementsAre("id@1:1 | name@1:4", "1@2:1 | Ana@2:3"));
    EXPECT_EQ(reader.bytes_read(), text.size());
    ::close(fd);
}

} // namespace
} // namespace ewsd::connectors::csv
