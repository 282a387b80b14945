/*
 * gbench_shim.cc: the C header bench/gbench.h over Google Benchmark (Debian's
 * libbenchmark-dev 1.7.1). The project's only C++ file.
 *
 * - gb_register wraps the C function pointer in a lambda given to RegisterBenchmark.
 * - gb_state* is the benchmark::State* itself, cast (never dereferenced from C).
 * - gb_initialize hands GB only the arguments that look like GB flags, so GB never sees
 *   (and never exits on) --help or the caller's own arguments; values GB would answer
 *   with PrintUsageAndExit are checked here first and reported as errors instead.
 * - gb_run uses a forwarding display reporter: GB's default display reporter (it honours
 *   --benchmark_format / --benchmark_color) prints as usual, and the C callback sees each
 *   Run. GB itself creates the --benchmark_out file reporter (JSON by default).
 */
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

benchmark::State &S(gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
const benchmark::State &S(const gb_state *st) { return *reinterpret_cast<const benchmark::State *>(st); }

std::string g_out_path;
std::string g_error; // the last failed call's message
std::string g_filter;
bool g_have_filter = false;
bool g_console = true;  // --benchmark_format is console (the default)
bool g_tabular = false; // --benchmark_counters_tabular

bool g_have_out = false;
bool g_list_only = false;

const char *const k_gb_flags[] = {
    "benchmark_list_tests",         "benchmark_filter",
    "benchmark_min_time",           "benchmark_min_warmup_time",
    "benchmark_repetitions",        "benchmark_enable_random_interleaving",
    "benchmark_report_aggregates_only", "benchmark_display_aggregates_only",
    "benchmark_format",             "benchmark_out",
    "benchmark_out_format",         "benchmark_color",
    "benchmark_counters_tabular",   "benchmark_context",
    "benchmark_time_unit",          "benchmark_perf_counters",
    "v",
};

// "--name=value" / "-name=value" / "--name": the name part, or "" when not a flag.
std::string flag_name(const char *arg, std::string *value, bool *has_value)
{
    *has_value = false;
    if (arg[0] != '-')
        return "";
    const char *p = arg + 1;
    if (*p == '-')
        p++;
    const char *eq = std::strchr(p, '=');
    if (eq) {
        *has_value = true;
        *value = eq + 1;
        return std::string(p, eq);
    }
    return p;
}

// --benchmark_anything, and --v=N (a bare -v stays the caller's).
bool looks_like_gb_flag(const std::string &name, bool has_value)
{
    return name.rfind("benchmark_", 0) == 0 || (name == "v" && has_value);
}

bool known_gb_flag(const std::string &name)
{
    for (const char *f : k_gb_flags)
        if (name == f)
            return true;
    return false;
}

bool one_of(const std::string &v, std::initializer_list<const char *> choices)
{
    for (const char *c : choices)
        if (v == c)
            return true;
    return false;
}

std::string all_gb_flags()
{
    std::string s;
    for (const char *f : k_gb_flags) {
        if (!s.empty())
            s += ", ";
        s += "--";
        s += f;
    }
    return s;
}

// A stream buffer writing everything to two others (the log and stderr).
class TeeBuf : public std::streambuf {
  public:
    TeeBuf(std::streambuf *a, std::streambuf *b) : a_(a), b_(b) {}

  protected:
    int overflow(int c) override
    {
        if (c == EOF)
            return !EOF;
        int ra = a_->sputc(static_cast<char>(c)), rb = b_->sputc(static_cast<char>(c));
        return ra == EOF || rb == EOF ? EOF : c;
    }
    std::streamsize xsputn(const char *s, std::streamsize n) override
    {
        std::streamsize ra = a_->sputn(s, n), rb = b_->sputn(s, n);
        return ra < rb ? ra : rb;
    }
    int sync() override { return a_->pubsync() == 0 && b_->pubsync() == 0 ? 0 : -1; }

  private:
    std::streambuf *a_, *b_;
};

// Keeps the message of a failed call for gb_error(); returns -1.
int set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int set_error(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_error = buf;
    return -1;
}

// Display reporter that forwards to GB's default one and to the C callback.
class ForwardingReporter : public benchmark::BenchmarkReporter {
  public:
    ForwardingReporter(benchmark::BenchmarkReporter *inner, gb_report_fn fn, void *user)
        : inner_(inner), fn_(fn), user_(user) {}

    bool ReportContext(const Context &context) override
    {
        inner_->SetOutputStream(&GetOutputStream());
        inner_->SetErrorStream(&GetErrorStream());
        return inner_->ReportContext(context);
    }

    void ReportRuns(const std::vector<Run> &reports) override
    {
        if (fn_)
            for (const Run &r : reports)
                forward(r);
        inner_->ReportRuns(reports);
        GetOutputStream().flush(); // a log keeps every finished run, even after a kill
    }

    void Finalize() override { inner_->Finalize(); }

  private:
    void forward(const Run &r)
    {
        std::string name = r.benchmark_name();
        std::string run_name = r.run_name.str();
        std::vector<std::string> cnames;
        std::vector<const char *> cptrs;
        std::vector<double> cvals;
        cnames.reserve(r.counters.size());
        for (const auto &kv : r.counters) {
            cnames.push_back(kv.first);
            cvals.push_back(kv.second.value);
        }
        for (const std::string &c : cnames)
            cptrs.push_back(c.c_str());
        bool agg = r.run_type == Run::RT_Aggregate;

        gb_run_result res;
        std::memset(&res, 0, sizeof res);
        res.name = name.c_str();
        res.run_type = agg ? "aggregate" : "iteration";
        res.aggregate_name = agg ? r.aggregate_name.c_str() : "";
        res.repetition_index = static_cast<int>(r.repetition_index);
        res.iterations = r.iterations;
        // GB writes aggregates' times as given and iteration runs per iteration.
        res.real_time = r.GetAdjustedRealTime();
        res.cpu_time = r.GetAdjustedCPUTime();
        res.time_unit = benchmark::GetTimeUnitString(r.time_unit);
        res.error_occurred = r.error_occurred;
        res.error_message = r.error_message.c_str();
        res.n_counters = static_cast<int>(cnames.size());
        res.counter_names = cptrs.data();
        res.counter_values = cvals.data();
        res.run_name = run_name.c_str();
        res.label = r.report_label.c_str();
        res.aggregate_unit = !agg ? "" : r.aggregate_unit == benchmark::kPercentage ? "percentage" : "time";
        res.repetitions = static_cast<int>(r.repetitions);
        res.threads = static_cast<int>(r.threads);
        res.family_index = r.family_index;
        res.per_family_instance_index = r.per_family_instance_index;
        fn_(&res, user_);
    }

    benchmark::BenchmarkReporter *inner_;
    gb_report_fn fn_;
    void *user_;
};

} // namespace

extern "C" {

int gb_register(const char *name, gb_fn fn, void *user, const gb_options *opts)
{
    if (!name || !*name || !fn) {
        return set_error("gb_register: a benchmark needs a non-empty name and a function");
    }
    if (opts && (opts->repetitions < 0 || opts->min_time < 0 || opts->iterations < 0 ||
                 opts->min_warmup_time < 0 || static_cast<unsigned>(opts->unit) >= GB_UNIT_COUNT)) {
        return set_error("gb_register: %s: bad options (repetitions %d, min_time %g, iterations %lld, "
                     "min_warmup_time %g, unit %d); expected non-negative values and a gb_time_unit",
                         name, opts->repetitions, opts->min_time, static_cast<long long>(opts->iterations),
                         opts->min_warmup_time, static_cast<int>(opts->unit));
    }
    /* Google Benchmark aborts (a failed CHECK) on a fixed iteration count with a minimum
     * time or warm-up: refused here instead */
    if (opts && opts->iterations > 0 && (opts->min_time > 0 || opts->min_warmup_time > 0)) {
        return set_error("gb_register: %s: a fixed iteration count (%lld) cannot have a minimum "
                         "time (%g s) or warm-up (%g s)",
                         name, static_cast<long long>(opts->iterations), opts->min_time,
                         opts->min_warmup_time);
    }
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        name, [fn, user](benchmark::State &st) { fn(reinterpret_cast<gb_state *>(&st), user); });
    if (!b)
        return set_error("gb_register: %s: Google Benchmark refused it", name);
    if (opts) {
        if (opts->repetitions > 0)
            b->Repetitions(opts->repetitions);
        if (opts->min_time > 0)
            b->MinTime(opts->min_time);
        if (opts->iterations > 0)
            b->Iterations(opts->iterations);
        if (opts->min_warmup_time > 0)
            b->MinWarmUpTime(opts->min_warmup_time);
        if (opts->use_manual_time)
            b->UseManualTime();
        else if (opts->use_real_time)
            b->UseRealTime();
        switch (opts->unit) {
        case GB_UNIT_NS: b->Unit(benchmark::kNanosecond); break;
        case GB_UNIT_US: b->Unit(benchmark::kMicrosecond); break;
        case GB_UNIT_MS: b->Unit(benchmark::kMillisecond); break;
        case GB_UNIT_S: b->Unit(benchmark::kSecond); break;
        case GB_UNIT_DEFAULT:
        case GB_UNIT_COUNT: break;
        }
    }
    return 0;
}

void gb_clear(void) { benchmark::ClearRegisteredBenchmarks(); }

bool gb_keep_running(gb_state *st) { return S(st).KeepRunning(); }
void gb_pause_timing(gb_state *st) { S(st).PauseTiming(); }
void gb_resume_timing(gb_state *st) { S(st).ResumeTiming(); }
void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }
int64_t gb_iterations(const gb_state *st) { return S(st).iterations(); }

void gb_set_counter(gb_state *st, const char *name, double value, gb_counter_kind kind)
{
    benchmark::Counter::Flags flags = benchmark::Counter::kDefaults;
    switch (kind) {
    case GB_COUNTER_PLAIN: flags = benchmark::Counter::kDefaults; break;
    case GB_COUNTER_RATE: flags = benchmark::Counter::kIsRate; break;
    case GB_COUNTER_PER_ITERATION: flags = benchmark::Counter::kAvgIterations; break;
    case GB_COUNTER_ITER_RATE: flags = benchmark::Counter::kIsIterationInvariantRate; break;
    }
    S(st).counters[name] = benchmark::Counter(value, flags);
}

void gb_set_label(gb_state *st, const char *label) { S(st).SetLabel(label ? label : ""); }
void gb_skip_with_error(gb_state *st, const char *msg) { S(st).SkipWithError(msg ? msg : "skipped"); }
void gb_set_items_processed(gb_state *st, int64_t items) { S(st).SetItemsProcessed(items); }

void gb_add_context(const char *key, const char *value)
{
    if (!key || !*key)
        return;
    std::map<std::string, std::string> *&ctx = benchmark::internal::GetGlobalContext();
    if (ctx && ctx->count(key)) {
        (*ctx)[key] = value ? value : "";
        return;
    }
    benchmark::AddCustomContext(key, value ? value : "");
}

int gb_initialize(int *argc, char **argv)
{
    if (!argc || *argc < 1 || !argv)
        return set_error("gb_initialize: needs argv[0]");
    // Split argv: GB-looking flags go to GB, everything else stays for the caller.
    std::vector<char *> gb_args{argv[0]};
    std::vector<char *> rest{argv[0]};
    g_have_out = false;
    g_list_only = false;
    g_have_filter = false;
    g_console = true;
    g_tabular = false;
    for (int i = 1; i < *argc; i++) {
        std::string value;
        bool has_value = false;
        std::string name = flag_name(argv[i], &value, &has_value);
        if (name.empty() || !looks_like_gb_flag(name, has_value)) {
            rest.push_back(argv[i]);
            continue;
        }
        if (!known_gb_flag(name)) {
            return set_error("unknown Google Benchmark flag '%s'; valid: %s", argv[i],
                             all_gb_flags().c_str());
        }
        if ((name == "benchmark_format" || name == "benchmark_out_format") &&
            !(has_value && one_of(value, {"console", "json", "csv"}))) {
            return set_error("bad value in '%s'; valid: console, json, csv", argv[i]);
        }
        if (name == "benchmark_time_unit" && !(has_value && one_of(value, {"", "ns", "us", "ms", "s"}))) {
            return set_error("bad value in '%s'; valid: ns, us, ms, s", argv[i]);
        }
        if (name == "benchmark_color" && (!has_value || value.empty())) {
            return set_error("bad value in '%s'; valid: auto, true, false", argv[i]);
        }
        if (name == "benchmark_out" && has_value) {
            g_out_path = value;
            g_have_out = !value.empty();
        }
        if (name == "benchmark_filter") {
            g_filter = has_value ? value : "";
            g_have_filter = true;
        }
        if (name == "benchmark_format")
            g_console = value == "console";
        if (name == "benchmark_counters_tabular")
            g_tabular = !has_value || one_of(value, {"true", "1", "yes", "y", "t"});
        if (name == "benchmark_list_tests")
            g_list_only = !has_value || one_of(value, {"true", "1", "yes", "y", "t"});
        gb_args.push_back(argv[i]);
    }
    int gb_argc = static_cast<int>(gb_args.size());
    gb_args.push_back(nullptr);
    benchmark::Initialize(&gb_argc, gb_args.data());
    // What GB did not consume is a GB flag whose value it could not parse.
    if (gb_argc > 1) {
        return set_error("bad Google Benchmark flag value '%s' (e.g. --benchmark_repetitions=3, "
                         "--benchmark_min_time=0.5 in seconds as a plain number)", gb_args[1]);
    }
    for (size_t i = 0; i < rest.size(); i++)
        argv[i] = rest[i];
    *argc = static_cast<int>(rest.size());
    argv[*argc] = nullptr;
    return 0;
}

bool gb_listing_only(void) { return g_list_only; }
const char *gb_out_path(void) { return g_have_out ? g_out_path.c_str() : nullptr; }

const char *gb_filter(void) { return g_have_filter ? g_filter.c_str() : nullptr; }
const char *gb_error(void) { return g_error.c_str(); }

int gb_run(gb_report_fn on_run, void *user) { return gb_run_with(nullptr, on_run, user); }

int gb_run_with(const gb_run_opts *o, gb_report_fn on_run, void *user)
{
    // GB exits when it cannot open --benchmark_out; check first and report instead.
    if (g_have_out && !g_list_only) {
        FILE *f = std::fopen(g_out_path.c_str(), "a");
        if (!f)
            return set_error("--benchmark_out=%s: cannot write: %s", g_out_path.c_str(),
                             std::strerror(errno));
        std::fclose(f);
    }
    const bool to_log = o && o->log_path;
    std::ofstream log;
    std::unique_ptr<TeeBuf> tee;
    std::unique_ptr<std::ostream> tee_stream;
    std::ostream *stream = nullptr;
    if (to_log) {
        log.open(o->log_path, o->log_append ? std::ios::app : std::ios::trunc);
        if (!log.is_open())
            return set_error("%s: cannot write the Google Benchmark log: %s", o->log_path,
                             std::strerror(errno));
        stream = &log;
        if (o->echo) {
            tee.reset(new TeeBuf(log.rdbuf(), std::cerr.rdbuf()));
            tee_stream.reset(new std::ostream(tee.get()));
            stream = tee_stream.get();
        }
    }
    // A log gets GB's console text without colour codes; elsewhere GB's own choice
    // (--benchmark_format, --benchmark_color).
    std::unique_ptr<benchmark::BenchmarkReporter> inner(
        to_log && g_console
            ? new benchmark::ConsoleReporter(g_tabular ? benchmark::ConsoleReporter::OO_Tabular
                                                       : benchmark::ConsoleReporter::OO_None)
            : benchmark::CreateDefaultDisplayReporter());
    ForwardingReporter display(inner.get(), on_run, user);
    if (stream) {
        display.SetOutputStream(stream);
        display.SetErrorStream(stream);
    }
    size_t n = o && o->filter ? benchmark::RunSpecifiedBenchmarks(&display, o->filter)
                              : benchmark::RunSpecifiedBenchmarks(&display);
    if (stream)
        stream->flush();
    if (to_log && !log.good())
        return set_error("%s: writing the Google Benchmark log failed", o->log_path);
    return static_cast<int>(n);
}

void gb_shutdown(void) { benchmark::Shutdown(); }

const char *gb_library_build_type(void)
{
    // The library decides this when it is compiled (its own NDEBUG), not this header: ask
    // its JSON reporter, which writes it into the context it reports.
    static std::string type;
    if (!type.empty())
        return type.c_str();
    std::ostringstream out, err;
    benchmark::JSONReporter json;
    json.SetOutputStream(&out);
    json.SetErrorStream(&err);
    benchmark::BenchmarkReporter::Context ctx;
    json.ReportContext(ctx);
    const std::string text = out.str(), key = "\"library_build_type\": \"";
    size_t at = text.find(key);
    if (at != std::string::npos) {
        size_t start = at + key.size(), end = text.find('"', start);
        if (end != std::string::npos)
            type = text.substr(start, end - start);
    }
    if (type.empty())
        type = "unknown (the library's JSON reporter did not say)";
    return type.c_str();
}

} // extern "C"
