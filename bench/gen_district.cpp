// ewsd-gen-district: writes a synthetic school district as CSV feeds.
//
// The output is a function of the arguments alone: std::mt19937_64's sequence is
// fixed by the standard, and every distribution here is our own code, because the
// std:: distributions may differ between standard libraries. Each student draws
// from an engine seeded by (seed, student number), so students do not disturb one
// another's numbers. Rows are written as each student is generated; memory stays
// flat however many students are asked for.

#include <algorithm>
#include <array>
#include <bitset>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ewsd::bench {
namespace {

namespace chr = std::chrono;
using Date = chr::sys_days;

constexpr int k_instructional_days = 180;
constexpr int k_grading_periods = 6;
constexpr int k_first_school_id = 101;
constexpr int k_section_size = 28;
constexpr std::uint64_t k_max_students = 9'999'999; // student ids have 7 digits
constexpr std::size_t k_flush_bytes = std::size_t{1} << 20;
constexpr std::size_t k_peers_per_school = 16;

// ---------------------------------------------------------------------------
// Random numbers

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

class Random {
public:
    explicit Random(std::uint64_t seed) : m_engine(seed) {}

    // Uniform on [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(m_engine() >> 11) * (1.0 / 9007199254740992.0); }

    // Uniform on [0, n); the modulo bias is below 2^-40 for any n used here.
    std::uint64_t below(std::uint64_t n) { return m_engine() % n; }
    int below(int n) { return static_cast<int>(below(static_cast<std::uint64_t>(n))); }

    bool chance(double p) { return uniform() < p; }

    // Box-Muller; one of the pair is dropped to keep the stream stateless.
    double normal(double mean, double sd) {
        const double u1 = 1.0 - uniform(); // (0, 1], safe for log
        const double u2 = uniform();
        constexpr double two_pi = 6.283185307179586;
        return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
    }

    double lognormal(double median, double sigma) { return median * std::exp(normal(0.0, sigma)); }

    // Marsaglia and Tsang (2000); shapes below 1 are boosted by U^(1/shape).
    double gamma(double shape, double scale) {
        if (shape < 1.0) {
            const double u = 1.0 - uniform();
            return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
        }
        const double d = shape - 1.0 / 3.0;
        const double c = 1.0 / std::sqrt(9.0 * d);
        for (;;) {
            double x = 0.0;
            double v = 0.0;
            do {
                x = normal(0.0, 1.0);
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = 1.0 - uniform();
            if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) {
                return d * v * scale;
            }
        }
    }

    // Knuth's product method; fine for the small means used here.
    int poisson(double mean) {
        const double limit = std::exp(-std::min(mean, 50.0));
        int count = 0;
        double product = uniform();
        while (product > limit) {
            ++count;
            product *= uniform();
        }
        return count;
    }

    // Index drawn with the given relative weights.
    template <std::size_t N> std::size_t pick(const std::array<double, N>& weights) {
        double total = 0.0;
        for (const double w : weights) {
            total += w;
        }
        double u = uniform() * total;
        for (std::size_t i = 0; i + 1 < N; ++i) {
            if (u < weights[i]) {
                return i;
            }
            u -= weights[i];
        }
        return N - 1;
    }

private:
    std::mt19937_64 m_engine;
};

// ---------------------------------------------------------------------------
// Text helpers

void append_number(std::string& out, std::uint64_t value, int width = 0) {
    std::array<char, 24> digits{};
    const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    const auto length = static_cast<int>(result.ptr - digits.data());
    if (length < width) {
        out.append(static_cast<std::size_t>(width - length), '0');
    }
    out.append(digits.data(), result.ptr);
}

std::string student_id(std::uint64_t index) {
    std::string id = "S";
    append_number(id, index + 1, 7);
    return id;
}

std::string format_date(Date day) {
    const chr::year_month_day ymd{day};
    std::string out;
    out.reserve(10);
    append_number(out, static_cast<std::uint64_t>(static_cast<int>(ymd.year())), 4);
    out.push_back('-');
    append_number(out, static_cast<unsigned>(ymd.month()), 2);
    out.push_back('-');
    append_number(out, static_cast<unsigned>(ymd.day()), 2);
    return out;
}

std::optional<Date> parse_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    const auto field = [&](std::size_t at, std::size_t n, auto& value) {
        const char* first = text.data() + at;
        const auto [ptr, ec] = std::from_chars(first, first + n, value);
        return ec == std::errc{} && ptr == first + n;
    };
    if (!field(0, 4, y) || !field(5, 2, m) || !field(8, 2, d)) {
        return std::nullopt;
    }
    const chr::year_month_day ymd{chr::year{y}, chr::month{m}, chr::day{d}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return Date{ymd};
}

// ---------------------------------------------------------------------------
// CSV output

// One output file with its own large buffer; values go straight into the buffer.
class CsvFile {
public:
    CsvFile(std::filesystem::path path, std::string_view header) : m_path(std::move(path)) {
        m_file = std::fopen(m_path.c_str(), "wb");
        if (m_file == nullptr) {
            throw std::runtime_error(m_path.string() + ": cannot create: " + std::strerror(errno));
        }
        m_buffer.reserve(k_flush_bytes + 4096);
        m_buffer.append(header);
        m_buffer.push_back('\n');
    }
    CsvFile(const CsvFile&) = delete;
    CsvFile& operator=(const CsvFile&) = delete;
    ~CsvFile() {
        if (m_file != nullptr) {
            std::fclose(m_file); // only after an earlier error; close() reports errors
        }
    }

    // A value known to need no quoting (ids, dates, numbers, fixed words).
    CsvFile& raw(std::string_view value) {
        separate();
        m_buffer.append(value);
        return *this;
    }

    // A value quoted per RFC 4180 when it holds a comma, quote or line break.
    CsvFile& text(std::string_view value) {
        separate();
        if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
            m_buffer.append(value);
            return *this;
        }
        m_buffer.push_back('"');
        for (const char c : value) {
            if (c == '"') {
                m_buffer.push_back('"');
            }
            m_buffer.push_back(c);
        }
        m_buffer.push_back('"');
        return *this;
    }

    CsvFile& number(std::uint64_t value, int width = 0) {
        separate();
        append_number(m_buffer, value, width);
        return *this;
    }

    CsvFile& empty() {
        separate();
        return *this;
    }

    // Direct access for composite values (section ids); call after empty().
    std::string& buffer() { return m_buffer; }

    void end_row() {
        m_buffer.push_back('\n');
        m_row_open = false;
        ++m_rows;
        if (m_buffer.size() >= k_flush_bytes) {
            flush();
        }
    }

    void close() {
        flush();
        const int result = std::fclose(m_file);
        m_file = nullptr;
        if (result != 0) {
            throw std::runtime_error(m_path.string() + ": cannot write: " + std::strerror(errno));
        }
    }

    [[nodiscard]] std::uint64_t rows() const { return m_rows; }
    [[nodiscard]] std::string name() const { return m_path.filename().string(); }

private:
    void separate() {
        if (m_row_open) {
            m_buffer.push_back(',');
        }
        m_row_open = true;
    }

    void flush() {
        if (!m_buffer.empty() &&
            std::fwrite(m_buffer.data(), 1, m_buffer.size(), m_file) != m_buffer.size()) {
            throw std::runtime_error(m_path.string() + ": cannot write: " + std::strerror(errno));
        }
        m_buffer.clear();
    }

    std::filesystem::path m_path;
    std::FILE* m_file = nullptr;
    std::string m_buffer;
    bool m_row_open = false;
    std::uint64_t m_rows = 0;
};

// ---------------------------------------------------------------------------
// Calendar

// Holidays by rule, so any year start works: Labor Day, Thanksgiving Wed-Fri,
// winter break Dec 22 - Jan 2, MLK Day, and spring break in the week of March 15.
bool is_holiday(Date day) {
    const chr::year_month_day ymd{day};
    const chr::year y = ymd.year();
    const chr::month m = ymd.month();
    const unsigned d = static_cast<unsigned>(ymd.day());
    if ((m == chr::December && d >= 22) || (m == chr::January && d <= 2)) {
        return true;
    }
    const Date labor_day{y / chr::September / chr::Monday[1]};
    const Date thanksgiving{y / chr::November / chr::Thursday[4]};
    const Date mlk_day{y / chr::January / chr::Monday[3]};
    const Date march_15{y / chr::March / 15};
    const Date spring_break = march_15 - (chr::weekday{march_15} - chr::Monday);
    const chr::days one{1};
    return day == labor_day || day == mlk_day ||
           (day >= thanksgiving - one && day <= thanksgiving + one) ||
           (day >= spring_break && day < spring_break + chr::days{5});
}

bool is_weekday(Date day) {
    const chr::weekday wd{day};
    return wd != chr::Saturday && wd != chr::Sunday;
}

class Calendar {
public:
    explicit Calendar(Date first) {
        for (Date day = first; std::ssize(m_school_days) < k_instructional_days;
             day += chr::days{1}) {
            const bool instructional = is_weekday(day) && !is_holiday(day);
            if (instructional) {
                m_school_days.push_back(std::ssize(m_dates));
            }
            m_dates.push_back(format_date(day));
            m_days.push_back(day);
            m_instructional.push_back(instructional);
        }
        for (int k = 0; k < k_grading_periods; ++k) {
            m_period_end[static_cast<std::size_t>(k)] =
                (k + 1) * k_instructional_days / k_grading_periods - 1;
        }
    }

    [[nodiscard]] std::ptrdiff_t days() const { return std::ssize(m_dates); }
    [[nodiscard]] const std::string& date(std::ptrdiff_t day) const {
        return m_dates[static_cast<std::size_t>(day)];
    }
    [[nodiscard]] bool instructional(std::ptrdiff_t day) const {
        return m_instructional[static_cast<std::size_t>(day)];
    }
    // The date of the i-th instructional day (0-based).
    [[nodiscard]] const std::string& school_date(int i) const {
        return date(m_school_days[static_cast<std::size_t>(i)]);
    }
    [[nodiscard]] Date school_day(int i) const {
        return m_days[static_cast<std::size_t>(m_school_days[static_cast<std::size_t>(i)])];
    }
    // The instructional day that closes grading period k (0-based).
    [[nodiscard]] int period_end(int k) const { return m_period_end[static_cast<std::size_t>(k)]; }

private:
    std::vector<std::string> m_dates;
    std::vector<Date> m_days;
    std::vector<bool> m_instructional;
    std::vector<std::ptrdiff_t> m_school_days;
    std::array<int, k_grading_periods> m_period_end{};
};

// ---------------------------------------------------------------------------
// Reference data

struct Course {
    std::string_view prefix;
    std::string_view title;
    std::string_view subject; // Ed-Fi AcademicSubjectDescriptor code value
};

constexpr std::array<Course, 7> k_courses{{
    {"MATH", "Mathematics", "Mathematics"},
    {"ENG", "English", "English Language and Literature"},
    {"SCI", "Science", "Science"},
    {"SOC", "Social Studies", "Social Studies"},
    {"PE", "Physical Education", "Physical, Health, and Safety Education"},
    {"ART", "Art", "Fine and Performing Arts"},
    {"SPAN", "Spanish", "Foreign Language and Literature"},
}};

constexpr std::array<std::string_view, 48> k_first_names{
    "Aaliyah", "Aiden",  "Amara",  "Andre",   "Ava",    "Benjamin", "Brianna", "Caleb",
    "Camila",  "Carlos", "Chloe",  "Daniel",  "Deja",   "Diego",    "Elena",   "Elijah",
    "Emily",   "Ethan",  "Fatima", "Gabriel", "Grace",  "Hannah",   "Hiroshi", "Isabella",
    "Isaiah",  "Jada",   "Jamal",  "Jasmine", "Javier", "Kai",      "Layla",   "Liam",
    "Lucas",   "Maya",   "Mateo",  "Mia",     "Noah",   "Nadia",    "Olivia",  "Omar",
    "Priya",   "Quinn",  "Rosa",   "Samuel",  "Sofia",  "Tyrone",   "Wei",     "Zoe"};

constexpr std::array<std::string_view, 48> k_last_names{
    "Adams",      "Alvarez",  "Brown",   "Chen",    "Clark",    "D'Angelo",  "Davis",
    "De la Cruz", "Diaz",     "Evans",   "Garcia",  "Green",    "Hall",      "Harris",
    "Hernandez",  "Jackson",  "Johnson", "Kim",     "Lee",      "Lewis",     "Lopez",
    "Martin",     "Martinez", "Miller",  "Moore",   "Nguyen",   "O'Brien",   "O'Connor",
    "Okafor",     "Patel",    "Perez",   "Ramirez", "Robinson", "Rodriguez", "Scott",
    "Singh",      "Smith",    "Taylor",  "Thomas",  "Thompson", "Van Buren", "Walker",
    "White",      "Williams", "Wilson",  "Wright",  "Young",    "Zhang"};

constexpr std::array<std::string_view, 4> k_behaviors{"State Offense", "School Code of Conduct",
                                                      "School Violation", "Other"};
constexpr std::array<double, 4> k_behavior_weights{0.10, 0.55, 0.25, 0.10};

constexpr std::array<std::string_view, 4> k_actions{
    "", "In School Suspension", "Out of School Suspension", "Removal from Classroom"};
constexpr std::array<double, 4> k_action_weights{0.40, 0.30, 0.20, 0.10};
constexpr std::array<double, 5> k_suspension_day_weights{0.40, 0.25, 0.20, 0.10, 0.05};

struct Categories {
    std::string_view excused;
    std::string_view unexcused;
    std::string_view tardy;
};

constexpr Categories k_edfi_categories{"Excused Absence", "Unexcused Absence", "Tardy"};
constexpr Categories k_local_categories{"EX", "A", "T"};

// ---------------------------------------------------------------------------
// Options

struct Options {
    std::uint64_t students = 0;
    std::uint64_t seed = 0;
    std::filesystem::path out;
    Date year_start{chr::year{2025} / chr::August / 18};
    bool local_codes = false;
    double schools_per_1000 = 1.25; // one school per 800 students
};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

constexpr std::string_view k_usage =
    "usage: ewsd-gen-district --students N --seed S --out DIR [--year-start YYYY-MM-DD]\n"
    "                         [--local-codes] [--schools-per-1000 K]\n"
    "Writes students.csv, calendar.csv, attendance.csv, grades.csv and incidents.csv\n"
    "for a synthetic district to DIR. The same arguments give the same files.\n"
    "  --students N          students to generate (1..9999999)\n"
    "  --seed S              random seed (unsigned 64-bit)\n"
    "  --out DIR             output directory, created if missing\n"
    "  --year-start DATE     first day of the school year (default 2025-08-18)\n"
    "  --local-codes         attendance categories as local codes A, EX, T\n"
    "  --schools-per-1000 K  schools per 1000 students, per school level (default 1.25)\n";

std::uint64_t parse_unsigned(std::string_view option, std::string_view text) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        throw UsageError(std::string(option) + ": not an unsigned integer: '" + std::string(text) +
                         "'");
    }
    return value;
}

double parse_positive(std::string_view option, std::string_view text) {
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !(value > 0.0) ||
        !std::isfinite(value)) {
        throw UsageError(std::string(option) + ": not a positive number: '" + std::string(text) +
                         "'");
    }
    return value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    bool have_students = false;
    bool have_seed = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--local-codes") {
            options.local_codes = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            std::fputs(k_usage.data(), stdout);
            std::exit(0);
        }
        constexpr std::array<std::string_view, 5> with_value{"--students", "--seed", "--out",
                                                             "--year-start", "--schools-per-1000"};
        if (std::find(with_value.begin(), with_value.end(), arg) == with_value.end()) {
            throw UsageError("unknown argument '" + std::string(arg) + "'");
        }
        if (i + 1 >= argc) {
            throw UsageError(std::string(arg) + ": missing value");
        }
        const std::string_view value = argv[++i];
        if (arg == "--students") {
            options.students = parse_unsigned(arg, value);
            have_students = true;
        } else if (arg == "--seed") {
            options.seed = parse_unsigned(arg, value);
            have_seed = true;
        } else if (arg == "--out") {
            options.out = std::filesystem::path(value);
        } else if (arg == "--year-start") {
            const auto date = parse_date(value);
            if (!date) {
                throw UsageError("--year-start: not a date (YYYY-MM-DD): '" + std::string(value) +
                                 "'");
            }
            options.year_start = *date;
        } else {
            options.schools_per_1000 = parse_positive(arg, value);
        }
    }
    if (!have_students || !have_seed || options.out.empty()) {
        throw UsageError("--students, --seed and --out are required");
    }
    if (options.students == 0 || options.students > k_max_students) {
        throw UsageError("--students: must be between 1 and 9999999");
    }
    return options;
}

// ---------------------------------------------------------------------------
// District layout

// Middle schools (grades 6-8) come first, then high schools (9-12).
struct Level {
    int first_grade = 0;
    int first_school = 0; // index; the id is k_first_school_id + index
    int school_count = 0;
    int sections = 0; // sections of each course per grade at one school
};

struct District {
    Level middle;
    Level high;

    [[nodiscard]] const Level& level_of(int grade) const { return grade >= 9 ? high : middle; }
    [[nodiscard]] int school_count() const { return middle.school_count + high.school_count; }
};

Level make_level(const Options& options, int first_grade, int grades, int first_school) {
    const double school_size = 1000.0 / options.schools_per_1000;
    const double students = static_cast<double>(options.students) * grades / 7.0;
    Level level;
    level.first_grade = first_grade;
    level.first_school = first_school;
    level.school_count = std::max(1, static_cast<int>(std::lround(students / school_size)));
    const double per_grade_per_school = students / grades / level.school_count;
    level.sections =
        std::max(1, static_cast<int>(std::lround(per_grade_per_school / k_section_size)));
    return level;
}

District make_district(const Options& options) {
    District district;
    district.middle = make_level(options, 6, 3, 0);
    district.high = make_level(options, 9, 4, district.middle.school_count);
    return district;
}

// ---------------------------------------------------------------------------
// Students

using DayMask = std::bitset<k_instructional_days>;

struct Enrollment {
    int school = 0;                          // index into the district's schools
    int last_day = k_instructional_days - 1; // last instructional day (index) here
    std::array<int, k_courses.size()> sections{};
};

struct Student {
    std::uint64_t index = 0;
    std::string id;
    int grade = 0;
    std::array<Enrollment, 2> enrollments{};
    int enrollment_count = 1;
    bool leaves_district = false;
    double absence_rate = 0.0; // long-run share of instructional days absent
    double tardy_rate = 0.0;
    double ability = 0.0;
    std::array<double, k_courses.size()> course_offset{};
    DayMask absent; // full days absent, for incident dates

    [[nodiscard]] int last_day() const { return enrollments[enrollment_count - 1].last_day; }
    [[nodiscard]] const Enrollment& enrollment_on(int day) const {
        return day <= enrollments[0].last_day ? enrollments[0] : enrollments[1];
    }
};

// A recent full-year student of a school, a candidate second party to an incident.
struct Peer {
    std::uint64_t index = 0;
    DayMask absent;
};

class PeerRing {
public:
    void add(const Peer& peer) {
        if (m_peers.size() < k_peers_per_school) {
            m_peers.push_back(peer);
        } else {
            m_peers[m_next] = peer;
        }
        m_next = (m_next + 1) % k_peers_per_school;
    }
    [[nodiscard]] const std::vector<Peer>& peers() const { return m_peers; }

private:
    std::vector<Peer> m_peers;
    std::size_t m_next = 0;
};

struct Counts {
    std::uint64_t transfers = 0;
    std::uint64_t incidents = 0;
};

// ---------------------------------------------------------------------------
// Generator

class Generator {
public:
    Generator(const Options& options, const Calendar& calendar)
        : m_options(options), m_calendar(calendar), m_district(make_district(options)),
          m_categories(options.local_codes ? k_local_categories : k_edfi_categories),
          m_peers(static_cast<std::size_t>(m_district.school_count())),
          m_students(options.out / "students.csv",
                     "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date,"
                     "iep,ell"),
          m_calendar_file(options.out / "calendar.csv", "school_id,date,instructional"),
          m_attendance(options.out / "attendance.csv",
                       "student_id,school_id,date,category,duration"),
          m_grades(options.out / "grades.csv",
                   "student_id,school_id,section_id,course_code,course_title,subject,"
                   "grading_period,date,numeric_grade,letter_grade"),
          m_incidents(options.out / "incidents.csv",
                      "incident_id,student_id,school_id,date,behavior,action,action_days") {}

    void run() {
        write_calendar();
        for (std::uint64_t i = 0; i < m_options.students; ++i) {
            generate(i);
        }
        for (CsvFile* file : files()) {
            file->close();
        }
    }

    void print_summary() const {
        std::printf("ewsd-gen-district: %llu students, %d schools (%d middle, %d high), "
                    "%llu transfers, %llu incidents; rows:",
                    static_cast<unsigned long long>(m_options.students), m_district.school_count(),
                    m_district.middle.school_count, m_district.high.school_count,
                    static_cast<unsigned long long>(m_counts.transfers),
                    static_cast<unsigned long long>(m_counts.incidents));
        for (const CsvFile* file : files()) {
            std::printf(" %s=%llu", file->name().c_str(),
                        static_cast<unsigned long long>(file->rows()));
        }
        std::printf("\n");
    }

private:
    [[nodiscard]] std::array<CsvFile*, 5> files() {
        return {&m_students, &m_calendar_file, &m_attendance, &m_grades, &m_incidents};
    }
    [[nodiscard]] std::array<const CsvFile*, 5> files() const {
        return {&m_students, &m_calendar_file, &m_attendance, &m_grades, &m_incidents};
    }

    static std::uint64_t school_id(int school) {
        return static_cast<std::uint64_t>(k_first_school_id + school);
    }

    void write_calendar() {
        for (int school = 0; school < m_district.school_count(); ++school) {
            for (std::ptrdiff_t day = 0; day < m_calendar.days(); ++day) {
                m_calendar_file.number(school_id(school))
                    .raw(m_calendar.date(day))
                    .raw(m_calendar.instructional(day) ? "true" : "false")
                    .end_row();
            }
        }
    }

    void generate(std::uint64_t index) {
        Random random(splitmix64(m_options.seed ^ splitmix64(index)));
        Student student = make_student(random, index);
        write_enrollments(random, student);
        write_attendance(random, student);
        write_grades(random, student);
        write_incidents(random, student);
        if (student.enrollment_count == 1 && !student.leaves_district) {
            m_peers[static_cast<std::size_t>(student.enrollments[0].school)].add(
                {student.index, student.absent});
        }
    }

    Student make_student(Random& random, std::uint64_t index) {
        Student student;
        student.index = index;
        student.id = student_id(index);
        student.grade = 6 + random.below(7);
        const Level& level = m_district.level_of(student.grade);
        const int offset = random.below(level.school_count);
        student.enrollments[0].school = level.first_school + offset;
        if (random.chance(0.02)) {
            add_transfer(random, student, level, offset);
        }
        for (int e = 0; e < student.enrollment_count; ++e) {
            for (int& section : student.enrollments[static_cast<std::size_t>(e)].sections) {
                section = 1 + random.below(level.sections);
            }
        }
        student.absence_rate = draw_absence_rate(random);
        student.tardy_rate = std::min(0.25, random.lognormal(0.024, 0.7));
        // Ability dips a little with absence, keeping the district mean at 80.
        student.ability = random.normal(80.0, 9.0) - 15.0 * (student.absence_rate - 0.06);
        for (double& course_offset : student.course_offset) {
            course_offset = random.normal(0.0, 3.0);
        }
        return student;
    }

    void add_transfer(Random& random, Student& student, const Level& level, int offset) {
        ++m_counts.transfers;
        const int last_day = 10 + random.below(k_instructional_days - 20);
        student.enrollments[0].last_day = last_day;
        if (level.school_count < 2) {
            student.leaves_district = true; // nowhere in the district to go
            return;
        }
        const int other = (offset + 1 + random.below(level.school_count - 1)) % level.school_count;
        student.enrollments[1].school = level.first_school + other;
        student.enrollment_count = 2;
    }

    // A mixture: most students are absent now and then; about one in eight has a
    // much higher rate. Together: mean near 6%, 12-15% chronically absent (>=10%).
    static double draw_absence_rate(Random& random) {
        const double rate =
            random.chance(0.13) ? random.lognormal(0.17, 0.5) : random.lognormal(0.038, 0.42);
        return std::clamp(rate, 0.002, 0.6);
    }

    void write_enrollments(Random& random, const Student& student) {
        const std::string_view first = k_first_names[random.below(k_first_names.size())];
        const std::string_view last = k_last_names[random.below(k_last_names.size())];
        const bool iep = random.chance(0.13);
        const bool ell = random.chance(0.10);
        std::string entry = m_calendar.date(0);
        for (int e = 0; e < student.enrollment_count; ++e) {
            const Enrollment& enrollment = student.enrollments[static_cast<std::size_t>(e)];
            const bool exits = e + 1 < student.enrollment_count || student.leaves_district;
            const Date exit_day = m_calendar.school_day(enrollment.last_day);
            m_students.raw(student.id)
                .number(school_id(enrollment.school))
                .number(static_cast<std::uint64_t>(student.grade))
                .text(first)
                .text(last)
                .raw(entry);
            if (exits) {
                m_students.raw(format_date(exit_day));
            } else {
                m_students.empty();
            }
            m_students.raw(iep ? "true" : "false").raw(ell ? "true" : "false").end_row();
            entry = format_date(exit_day + chr::days{1});
        }
    }

    // Absences follow a two-state chain: after an absent day the chance of another
    // is raised, so illnesses run two or three days. The base chance is set so the
    // long-run share of absent days equals the student's rate.
    void write_attendance(Random& random, Student& student) {
        const double p = student.absence_rate;
        const double after_absence = 0.45 + 0.5 * p;
        const double fresh = p * (1.0 - after_absence) / (1.0 - p);
        bool was_absent = false;
        bool excused = false;
        for (int day = 0; day <= student.last_day(); ++day) {
            const bool absent = random.chance(was_absent ? after_absence : fresh);
            if (absent) {
                if (!was_absent) {
                    excused = random.chance(0.4); // one reason for the whole spell
                }
                const bool half = random.chance(0.1);
                if (!half) {
                    student.absent.set(static_cast<std::size_t>(day));
                }
                write_event(student, day, excused ? m_categories.excused : m_categories.unexcused,
                            half ? "0.5" : "1");
            } else if (random.chance(student.tardy_rate)) {
                write_event(student, day, m_categories.tardy, "");
            }
            was_absent = absent;
        }
    }

    void write_event(const Student& student, int day, std::string_view category,
                     std::string_view duration) {
        m_attendance.raw(student.id)
            .number(school_id(student.enrollment_on(day).school))
            .raw(m_calendar.school_date(day))
            .raw(category)
            .raw(duration)
            .end_row();
    }

    void write_grades(Random& random, const Student& student) {
        // Chronically absent students slide a little each grading period.
        const double p = student.absence_rate;
        const double drift = p >= 0.10 ? 0.6 + 4.0 * (p - 0.10) : 0.0;
        for (int period = 0; period < k_grading_periods; ++period) {
            const int day = m_calendar.period_end(period);
            if (day > student.last_day()) {
                break;
            }
            const Enrollment& enrollment = student.enrollment_on(day);
            for (std::size_t c = 0; c < k_courses.size(); ++c) {
                const double score = student.ability + student.course_offset[c] +
                                     random.normal(0.0, 5.0) - drift * period;
                const auto tenths = std::lround(std::clamp(score, 0.0, 100.0) * 10.0);
                write_grade(random, student, enrollment, c, period, tenths);
            }
        }
    }

    void write_grade(Random& random, const Student& student, const Enrollment& enrollment,
                     std::size_t course_index, int period, long tenths) {
        const Course& course = k_courses[course_index];
        const auto grade = static_cast<std::uint64_t>(student.grade);
        const double u = random.uniform();
        const bool has_numeric = u >= 0.01;
        const bool has_letter = u < 0.01 || u >= 0.02;
        m_grades.raw(student.id).number(school_id(enrollment.school)).empty();
        std::string& buffer = m_grades.buffer();
        append_number(buffer, school_id(enrollment.school));
        buffer.push_back('-');
        append_course_code(buffer, course, grade);
        buffer.push_back('-');
        append_number(buffer, static_cast<std::uint64_t>(enrollment.sections[course_index]), 2);
        m_grades.empty();
        append_course_code(buffer, course, grade);
        m_grades.empty();
        buffer.append(course.title);
        buffer.push_back(' ');
        append_number(buffer, grade);
        m_grades.text(course.subject)
            .raw("Six Weeks ")
            .buffer()
            .push_back(static_cast<char>('1' + period));
        m_grades.raw(m_calendar.school_date(m_calendar.period_end(period))).empty();
        if (has_numeric) {
            append_number(buffer, static_cast<std::uint64_t>(tenths / 10));
            if (tenths % 10 != 0) {
                buffer.push_back('.');
                buffer.push_back(static_cast<char>('0' + tenths % 10));
            }
        }
        m_grades.raw(has_letter ? letter_grade(tenths) : "").end_row();
    }

    static void append_course_code(std::string& out, const Course& course, std::uint64_t grade) {
        out.append(course.prefix);
        out.push_back('-');
        append_number(out, grade, 2);
    }

    static std::string_view letter_grade(long tenths) {
        if (tenths >= 900) {
            return "A";
        }
        if (tenths >= 800) {
            return "B";
        }
        if (tenths >= 700) {
            return "C";
        }
        if (tenths >= 650) {
            return "D";
        }
        return "F";
    }

    // Incident counts are negative binomial (a gamma-Poisson mixture), so most
    // students have none and a few have several; more absence, more incidents.
    void write_incidents(Random& random, const Student& student) {
        constexpr double shape = 0.25;
        constexpr double mean_rows = 0.3 / 1.1; // one in ten incidents adds a second student
        const double rate =
            random.gamma(shape, mean_rows / shape) * (0.7 + 5.0 * student.absence_rate);
        const int count = random.poisson(rate);
        for (int n = 0; n < count; ++n) {
            const int day = present_day(random, student);
            const int school = student.enrollment_on(day).school;
            ++m_counts.incidents;
            write_involvement(random, student.id, school, day);
            if (random.chance(0.1)) {
                add_second_student(random, school, day);
            }
        }
    }

    static int present_day(Random& random, const Student& student) {
        int day = 0;
        for (int attempt = 0; attempt < 50; ++attempt) {
            day = random.below(student.last_day() + 1);
            if (!student.absent.test(static_cast<std::size_t>(day))) {
                break;
            }
        }
        return day;
    }

    void add_second_student(Random& random, int school, int day) {
        const auto& peers = m_peers[static_cast<std::size_t>(school)].peers();
        if (peers.empty()) {
            return;
        }
        const std::size_t start = random.below(peers.size());
        for (std::size_t i = 0; i < peers.size(); ++i) {
            const Peer& peer = peers[(start + i) % peers.size()];
            if (!peer.absent.test(static_cast<std::size_t>(day))) {
                write_involvement(random, student_id(peer.index), school, day);
                return;
            }
        }
    }

    void write_involvement(Random& random, std::string_view id, int school, int day) {
        const std::size_t behavior = random.pick(k_behavior_weights);
        const std::size_t action = random.pick(k_action_weights);
        m_incidents.raw("I");
        append_number(m_incidents.buffer(), m_counts.incidents, 6);
        m_incidents.raw(id)
            .number(school_id(school))
            .raw(m_calendar.school_date(day))
            .text(k_behaviors[behavior])
            .raw(k_actions[action]);
        if (action == 0) {
            m_incidents.empty();
        } else if (action == 3) {
            m_incidents.number(1);
        } else {
            m_incidents.number(1 + random.pick(k_suspension_day_weights));
        }
        m_incidents.end_row();
    }

    const Options& m_options;
    const Calendar& m_calendar;
    District m_district;
    Categories m_categories;
    std::vector<PeerRing> m_peers;
    Counts m_counts;
    CsvFile m_students;
    CsvFile m_calendar_file;
    CsvFile m_attendance;
    CsvFile m_grades;
    CsvFile m_incidents;
};

int run(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    std::error_code error;
    std::filesystem::create_directories(options.out, error);
    if (error) {
        throw std::runtime_error(options.out.string() +
                                 ": cannot create directory: " + error.message());
    }
    const Calendar calendar(options.year_start);
    Generator generator(options, calendar);
    generator.run();
    generator.print_summary();
    return 0;
}

} // namespace
} // namespace ewsd::bench

int main(int argc, char** argv) {
    try {
        return ewsd::bench::run(argc, argv);
    } catch (const ewsd::bench::UsageError& e) {
        std::fprintf(stderr, "ewsd-gen-district: %s (see --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ewsd-gen-district: error: %s\n", e.what());
        return 1;
    }
}
