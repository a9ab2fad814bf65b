// `attnsim sweep FILE -o PREFIX`: runs every point of a sweep file (a grid or a list
// over hardware-config parameters, workload fields and kernels) on the machine's
// cores, or across machines under MPI (`mpirun -np N attnsim sweep ...`: ranks take
// every N-th point and rank 0 gathers), and writes PREFIX.csv, PREFIX.json (identical
// bytes however the points were split) and PREFIX.png (speedup against x).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#ifdef ATTNSIM_HAVE_MPI
#include <mpi.h>
#endif

#include "sim/cli/command.h"
#include "sim/cli/session_options.h"
#include "sim/core/error.h"
#include "sim/core/forked_map.h"
#include "sim/sweep/sweep_point.h"
#include "sim/sweep/sweep_runner.h"

namespace attnsim {
namespace cmd_sweep {

struct SweepOptions {
  std::string file;
  std::string prefix;
  int jobs = 0;
  bool no_plot = false;
  bool quiet = false;
  std::string max_memory, max_time;  // per point run, as `attnsim run` takes them
};

// Ranks of an MPI launch, from the launcher's environment (so a plain run never
// touches MPI, and an MPI launch of a binary built without MPI is refused).
int launched_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  }
  return 1;
}

struct World {
  int rank = 0;
  int size = 1;
};

// One string per rank, concatenated on rank 0 (empty elsewhere).
std::string gather_to_root(const World& w, const std::string& mine) {
#ifdef ATTNSIM_HAVE_MPI
  if (w.size > 1) {
    int len = static_cast<int>(mine.size());
    std::vector<int> lens(static_cast<size_t>(w.size)), offs(static_cast<size_t>(w.size));
    MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < w.size; ++r) offs[static_cast<size_t>(r)] = total, total += lens[static_cast<size_t>(r)];
    std::string all(w.rank == 0 ? static_cast<size_t>(total) : 0, '\0');
    MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    return all;
  }
#endif
  (void)w;
  return mine;
}

void run_sweep(const SweepOptions& o, const World& w) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool talk = !o.quiet && w.rank == 0;
  const std::string csv = o.prefix + ".csv", json = o.prefix + ".json", png = o.prefix + ".png";
  if (w.rank == 0) require_writable_output(csv);
  ResourceBudget budget;
  apply_budget_options(o.max_memory, o.max_time, budget);
  const SweepSpec spec = load_sweep(o.file);
  // Every point must parse before any is simulated: a typo in point 199 fails in a second.
  for (size_t p = 0; p < spec.points.size(); ++p) validate_point(spec, p);
  std::vector<size_t> mine;
  for (size_t p = static_cast<size_t>(w.rank); p < spec.points.size(); p += static_cast<size_t>(w.size)) mine.push_back(p);
  const int jobs = o.jobs > 0 ? o.jobs : w.size > 1 ? 1 : default_workers(kBytesPerSimulationWorker);
  if (talk) {
    std::fprintf(stderr, "sweep: %zu points on %d rank(s) x %d process(es)\n", spec.points.size(), w.size, jobs);
  }
  std::vector<PointResult> results;
  try {
    results = run_points(spec, mine, jobs, budget);
  } catch (const Error& e) {  // reported through rank 0, so no rank waits forever
    for (size_t p : mine) results.push_back({p, "", e.what()});
  }
  const std::string all = gather_to_root(w, encode_results(results));
  if (w.rank != 0) return;
  const SweepRows rows = rows_of(decode_results(all));
  write_output(csv, sweep_csv(rows));
  write_output(json, sweep_json(spec, rows));
  std::string plot_note = o.no_plot ? "plot not asked for" : sweep_plot(spec, rows, png);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet) {
    if (!plot_note.empty() && !o.no_plot) std::fprintf(stderr, "sweep: %s\n", plot_note.c_str());
    std::fprintf(stderr, "sweep: wrote %s, %s%s (%zu points in %.1f s)\n", csv.c_str(), json.c_str(),
                 plot_note.empty() ? (", " + png).c_str() : "", rows.size(), secs);
  }
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "run a sweep file's points (grid or list) in parallel; CSV, JSON and a plot");
  auto o = std::make_shared<SweepOptions>();
  cmd->add_option("file", o->file, "sweep YAML (docs/sparsecore.md)")->required();
  cmd->add_option("--output,-o", o->prefix, "output prefix: writes PREFIX.csv, PREFIX.json and PREFIX.png")->required();
  cmd->add_option("--jobs,-j", o->jobs, "worker processes per rank (default: all cores, as many as free memory holds at 0.5 GB each; "
                  "1 per rank under MPI)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--no-plot", o->no_plot, "do not draw the PNG");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress messages on stderr");
  add_budget_options(cmd, o->max_memory, o->max_time);
  cmd->callback([o] {
    World w;
    w.size = launched_ranks();
#ifdef ATTNSIM_HAVE_MPI
    if (w.size > 1) {
      MPI_Init(nullptr, nullptr);
      MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
      MPI_Comm_size(MPI_COMM_WORLD, &w.size);
      int failed = 0;
      std::string message;
      try {
        run_sweep(*o, w);
      } catch (const Error& e) {
        failed = 1;
        message = e.what();
      }
      // Every rank meets the same input errors; rank 0 also meets the points' errors.
      int any = 0;
      MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
      MPI_Finalize();
      if (failed && w.rank == 0) throw Error(message);
      if (any) std::exit(2);
      if (w.rank != 0) std::exit(0);
      return;
    }
#else
    if (w.size > 1) {
      throw Error("sweep: launched on " + std::to_string(w.size) + " MPI ranks, but this attnsim was built without MPI; "
                  "rebuild with -DATTNSIM_MPI=ON (needs libopenmpi-dev) or run it without mpirun");
    }
#endif
    run_sweep(*o, w);
  });
}

const Registrar<CommandEntry> kRegister("sweep", CommandEntry{setup});

}  // namespace cmd_sweep
}  // namespace attnsim
