// `attnsim plot`: PNG charts from a result (`attnsim run --json [--detail]`) or a table of
// sweep points, through gnuplot. Formats and examples: docs/gui.md, "Plots without the GUI".
#include <cstdio>
#include <memory>

#include "sim/cli/command.h"
#include "sim/core/error.h"
#include "sim/plot/gnuplot.h"

namespace attnsim {
namespace cmd_plot {

struct PlotCliOptions {
  std::string input, kind = "traffic", output, script, size;
  PlotOptions plot;
};

void parse_size(const std::string& text, PlotOptions& o) {
  int w = 0, h = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%dx%d%c", &w, &h, &extra) != 2 || w < 100 || h < 100 || w > 8000 || h > 8000) {
    throw Error("--size: expected WIDTHxHEIGHT in pixels, each 100..8000, got '" + text + "'");
  }
  o.width_px = w, o.height_px = h;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("plot", "draw a result or sweep points as a PNG chart (needs gnuplot)");
  auto o = std::make_shared<PlotCliOptions>();
  cmd->add_option("input", o->input, "result JSON (attnsim run --json [--detail]) or sweep points (CSV or JSON)")->required();
  cmd->add_option("--kind,-k", o->kind, "traffic | roofline | mask | timeline (need --detail) | sweep");
  cmd->add_option("--output,-o", o->output, "PNG file to write");
  cmd->add_option("--script", o->script, "also (or, without -o, only) write the gnuplot script to this file");
  cmd->add_option("--size", o->size, "image size in pixels, WIDTHxHEIGHT (default 1000x600)");
  cmd->add_option("--title", o->plot.title, "chart title (default: from the result)");
  cmd->add_option("--x", o->plot.x, "sweep: column on the x axis");
  cmd->add_option("--y", o->plot.y, "sweep: column on the y axis");
  cmd->add_option("--series", o->plot.series, "sweep: one curve per value of this column");
  cmd->add_flag("--log-x", o->plot.log_x, "logarithmic x axis");
  cmd->add_flag("--log-y", o->plot.log_y, "logarithmic y axis");
  cmd->callback([o] {
    const PlotKind kind = parse_plot_kind(o->kind);
    if (!o->size.empty()) parse_size(o->size, o->plot);
    if (o->output.empty() && o->script.empty()) throw Error("plot: give -o FILE.png (or --script FILE for the script alone)");
    if (!o->output.empty()) require_writable_output(o->output);
    if (!o->script.empty()) require_writable_output(o->script);
    // Render into a temporary name, renamed once complete (as for results); a saved script
    // names the final file.
    const std::string png = o->output.empty() ? "out.png" : o->output;
    auto script_for = [&](const std::string& png_path) {
      if (kind == PlotKind::sweep) return sweep_plot_script(read_point_table(o->input), o->plot, png_path);
      const nlohmann::ordered_json result = read_result_file(o->input);
      try {
        return result_plot_script(kind, result, o->plot, png_path);
      } catch (const nlohmann::json::exception&) {
        throw Error(o->input + ": a section of this result has unexpected types; is it from 'attnsim run --json'?");
      } catch (const Error& e) {
        throw Error(o->input + ": " + e.what());
      }
    };
    const std::string tmp = png + ".tmp";
    const std::string script = script_for(tmp);
    if (!o->script.empty()) write_output(o->script, script_for(png));
    if (o->output.empty()) return;
    run_gnuplot(script, tmp);
    if (std::rename(tmp.c_str(), png.c_str()) != 0) throw Error(png + ": cannot write");
  });
}

const Registrar<CommandEntry> kRegister("plot", CommandEntry{setup});

}  // namespace cmd_plot
}  // namespace attnsim
