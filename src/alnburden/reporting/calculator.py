"""Interactive risk calculator: one self-contained HTML page per level.

The page is a view of the level's saved logistic model (``results/<level>/models/
combined.joblib``, or ``clinical.joblib`` in a cohort without images), exactly as the
nomogram is: the points of every input, the total points and the probability are the
nomogram's arithmetic (:class:`alnburden.modeling.nomogram.Nomogram`, Harrell's
convention), computed in the browser from the constants this module writes into the page:

* an input of design column ``j`` with coefficient ``b_j`` gets
  ``100 b_j (x_j - x0_j) / max_span`` points (``x0_j`` is the value that gets 0 points);
  a categorical variable is the sum of its dummies' points;
* ``logit(p) = lp0 + total * max_span / 100``, which is the model's own linear predictor,
  so the page's probability equals ``model.predict_proba`` (a test reads it from a real
  browser's DOM and compares to 1e-6).

An empty continuous field takes the training median, as the model does for a missing value
(``LogisticModel.fill_values_``); a value outside the variable's allowed range (the config's
``min``/``max``, the Rad-score's +-logit(1 - 1e-3)) gives no probability and says why; a value
outside the training range is computed and flagged as extrapolated. The operating point is the
level's training-chosen cutoff (``results/tables/performance.csv``): ``p >= cutoff`` is
positive, as in every table of the run.

The page reads its initial values from the URL query (``?rad_score=0.4&age=55&er=1&
subtype=luminal_b``: variable names as in the config, categorical levels by name, binary
and ordinal levels by their code) and keeps a link with the current values. It has no
server, loads nothing (inline CSS and JS only) and works from ``file://``.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from alnburden.modeling.nomogram import PREDICTOR_LABELS, nomogram_from_model
from alnburden.modeling.persistence import RAD_SCORE_EPS, load_model

__all__ = ["calculator_spec", "render_calculator", "write_calculator", "level_cutoff",
           "RAD_SCORE_LIMIT"]

#: Largest |Rad-score| the radiomics stage can produce (logit of 1 - eps).
RAD_SCORE_LIMIT = float(math.log((1 - RAD_SCORE_EPS) / RAD_SCORE_EPS))


def _plain_label(name: str, unit: str | None) -> str:
    """``Age`` for ``age`` (the nomogram's label without its ``(unit)``)."""
    label = PREDICTOR_LABELS.get(name, name.replace("_", " ").capitalize())
    if unit and label.endswith(f" ({unit})"):
        label = label[: -len(f" ({unit})")]
    return label


def _num(v) -> float | None:
    return None if v is None else float(v)


def level_cutoff(performance: pd.DataFrame, level: str, model: str) -> float:
    """The training-chosen cutoff of ``model`` at ``level`` (``performance.csv``).

    Raises
    ------
    ValueError
        The table has no finite cutoff for that level and model.
    """
    rows = performance[(performance["level"] == level) & (performance["model"] == model)]
    train = rows[rows["set"] == "train"]
    cut = pd.to_numeric((train if len(train) else rows)["cutoff"], errors="coerce").dropna()
    if cut.empty:
        raise ValueError(f"performance.csv has no cutoff for level {level!r}, model {model!r}; "
                         "run the evaluation_tables rule of this run first")
    return float(cut.iloc[0])


def calculator_spec(model, variables: list[dict] | None = None, *, cutoff: float,
                    level: str, level_label: str = "", label_rule: str = "",
                    model_name: str = "combined", simulated: bool = False) -> dict:
    """Everything the page needs, as plain JSON-able values.

    Parameters
    ----------
    model
        A fitted :class:`alnburden.modeling.clinical.LogisticModel`.
    variables
        The config's ``clinical.variables`` (their ``unit``, ``min``, ``max`` are shown and
        enforced); default: the model's own specs.
    cutoff
        Probability (0-1) of the operating point; ``p >= cutoff`` is positive.
    level, level_label, label_rule
        The level's name, description and label rule (e.g. ``n_positive_nodes > 0``).
    model_name
        ``combined`` or ``clinical``.
    simulated
        The model was fitted on the in-silico cohort (the page says so).

    Returns
    -------
    dict
        ``inputs`` (one per model variable: name, label, unit, kind, allowed and training
        range, default, levels and the design columns with coefficient and zero-point),
        ``max_span``, ``lp0``, ``cutoff`` and the page's texts.
    """
    if not 0 < float(cutoff) < 1:
        raise ValueError(f"cutoff must be a probability in (0, 1), got {cutoff}")
    nom = nomogram_from_model(model)
    axes = {ax.name: ax for ax in nom.axes}
    config_specs = {v["name"]: v for v in (variables or [])}
    inputs = []
    for spec in model.variables:
        name, kind = spec["name"], spec.get("type", "continuous")
        cfg = {**spec, **config_specs.get(name, {})}
        unit = cfg.get("unit") or ("logit" if name == "rad_score" else None)
        entry = {"name": name, "kind": kind, "unit": unit, "label": _plain_label(name, unit),
                 "default": model.fill_values_.get(name)}
        if kind == "categorical":
            levels = [str(lv) for lv in spec["levels"]]
            entry["levels"] = []
            for i, lv in enumerate(levels):
                ax = axes.get(f"{name}[{lv}]")
                text = (ax.label.split(": ", 1)[-1] if ax is not None
                        else lv.replace("_", " "))
                entry["levels"].append({"value": lv, "label": text + (" (reference)" if i == 0
                                                                      else "")})
            entry["axes"] = [{"level": lv, "beta": axes[f"{name}[{lv}]"].beta,
                              "x0": axes[f"{name}[{lv}]"].x0}
                             for lv in levels[1:] if f"{name}[{lv}]" in axes]
            entry["default"] = str(entry["default"])
        else:
            ax = axes[name]
            entry["axes"] = [{"beta": ax.beta, "x0": ax.x0}]
            if kind in ("binary", "ordinal"):
                entry["levels"] = [{"value": float(v), "label": str(t)}
                                   for v, t in zip(ax.levels, ax.level_labels)]
                codes = np.array([lv["value"] for lv in entry["levels"]])
                entry["default"] = float(codes[np.argmin(np.abs(codes - float(entry["default"])))])
            else:
                lo = _num(cfg.get("min"))
                hi = _num(cfg.get("max"))
                if name == "rad_score":
                    lo, hi = -RAD_SCORE_LIMIT, RAD_SCORE_LIMIT
                entry.update(min=lo, max=hi, train_min=float(model.ranges_[name][0]),
                             train_max=float(model.ranges_[name][1]),
                             default=float(entry["default"]))
        inputs.append(entry)
    return {"level": level, "level_label": level_label or level, "label_rule": label_rule,
            "model": model_name, "simulated": bool(simulated), "cutoff": float(cutoff),
            "max_span": float(nom.max_span), "lp0": float(nom.lp0),
            "max_total_points": float(nom.max_total_points),
            "n_train": int(getattr(model, "n_", 0)),
            "events_train": int(getattr(model, "events_", 0)),
            "inputs": inputs}


_CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d9dee5;--accent:#1f5f9e;--pos:#b3261e;--neg:#1e7a46;
--bg:#f4f6f9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:860px;margin:24px auto;background:#fff;border:1px solid var(--line);
border-radius:10px;padding:24px 28px;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:21px;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 18px;font-size:14px}
.warn{background:#fff6e0;border:1px solid #f0d48a;border-radius:6px;padding:8px 12px;
font-size:13px;margin:0 0 16px}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
border-bottom:2px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid var(--line);padding:9px 8px;vertical-align:middle}
td.lab{width:32%} td.lab b{display:block;font-weight:600} td.lab small{color:var(--muted)}
input,select{font:inherit;padding:5px 8px;border:1px solid #b9c1cc;border-radius:5px;width:150px}
input.bad{border-color:var(--pos);background:#fdecea}
td.note{font-size:12px;color:var(--muted);width:20%}
td.note.bad{color:var(--pos)}
td.pts{width:24%;white-space:nowrap}
.bar{display:inline-block;vertical-align:middle;width:110px;height:9px;background:#e8ecf1;
border-radius:5px;overflow:hidden;margin-right:8px}
.bar i{display:block;height:100%;background:var(--accent)}
.pv{display:inline-block;min-width:44px;text-align:right;font-variant-numeric:tabular-nums}
.result{display:grid;grid-template-columns:1fr 1.6fr;gap:18px;margin-top:20px;
padding:16px 18px;border:1px solid var(--line);border-radius:8px;background:#fafbfd}
.k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.big{font-size:34px;font-weight:650;font-variant-numeric:tabular-nums}
.risk{position:relative;height:14px;background:linear-gradient(90deg,#d7ecdf,#f7d9d6);
border-radius:7px;margin:10px 0 4px}
.risk .cut{position:absolute;top:-5px;width:2px;height:24px;background:var(--ink)}
.risk .dot{position:absolute;top:-3px;width:20px;height:20px;margin-left:-10px;border-radius:50%;
background:var(--accent);border:3px solid #fff;box-shadow:0 0 0 1px var(--accent)}
.scale{position:relative;height:16px;font-size:11px;color:var(--muted)}
.scale span{position:absolute;top:0;white-space:nowrap}
.scale .c{transform:translateX(-50%);color:var(--ink)}
.verdict{margin-top:10px;padding:8px 12px;border-radius:6px;font-weight:600}
.verdict.pos{background:#fdecea;color:var(--pos)} .verdict.neg{background:#e6f4ea;color:var(--neg)}
.verdict.none{background:#eef0f3;color:var(--muted)}
footer{margin-top:18px;font-size:12px;color:var(--muted)}
footer a{color:var(--accent)}
"""

_JS = r"""
(function(){
"use strict";
var S = JSON.parse(document.getElementById("spec").textContent);
var q = new URLSearchParams(window.location.search);
function fmt(x, d){ return (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d); }
function logistic(lp){ if (lp >= 0) { return 1 / (1 + Math.exp(-lp)); }
  var e = Math.exp(lp); return e / (1 + e); }
function el(id){ return document.getElementById(id); }
S.inputs.forEach(function(v){
  var f = el("in-" + v.name), given = q.get(v.name);
  if (given === null) { return; }
  if (v.levels) {
    var hit = v.levels.filter(function(l){
      return v.kind === "categorical" ? l.value === given : Number(given) === l.value; });
    if (hit.length) { f.value = String(hit[0].value); } else { f.dataset.query = given; }
  } else { f.value = given; }
});
function read(v){
  var f = el("in-" + v.name), note = "";
  if (f.dataset.query !== undefined) {
    return {ok: false, note: "'" + f.dataset.query + "' is not a level"}; }
  if (v.levels) {
    var x = v.kind === "categorical" ? f.value : Number(f.value);
    return {ok: true, x: x, note: ""};
  }
  var raw = f.value.trim();
  if (raw === "") { return {ok: true, x: v.default, note: "empty: training median " +
      String(Math.round(v.default * 100) / 100) + " used"}; }
  var x = Number(raw.replace(",", "."));
  if (!isFinite(x)) { return {ok: false, note: "not a number"}; }
  if ((v.min !== null && x < v.min) || (v.max !== null && x > v.max)) {
    return {ok: false, note: "outside the allowed range " + rangeText(v)}; }
  if (x < v.train_min || x > v.train_max) { note = "outside the training range: extrapolated"; }
  return {ok: true, x: x, note: note};
}
function rangeText(v){
  var lo = v.min === null ? "" : String(Math.round(v.min * 100) / 100);
  var hi = v.max === null ? "" : String(Math.round(v.max * 100) / 100);
  return lo + "\u2013" + hi + (v.unit ? " " + v.unit : "");
}
function points(v, x){
  var s = 0;
  v.axes.forEach(function(a){
    var xx = v.kind === "categorical" ? (x === a.level ? 1 : 0) : x;
    s += 100 * a.beta * (xx - a.x0) / S.max_span;
  });
  return s;
}
function update(){
  var total = 0, ok = true, link = [];
  S.inputs.forEach(function(v){
    var r = read(v), row = el("row-" + v.name), f = el("in-" + v.name);
    var note = el("note-" + v.name), pv = el("pts-" + v.name);
    f.classList.toggle("bad", !r.ok);
    note.textContent = r.note; note.classList.toggle("bad", !r.ok);
    if (!r.ok) { ok = false; pv.textContent = "\u2014"; row.dataset.points = "";
      el("bar-" + v.name).style.width = "0"; return; }
    var p = points(v, r.x);
    total += p; row.dataset.points = String(p); pv.textContent = fmt(p, 1);
    el("bar-" + v.name).style.width = Math.max(0, Math.min(100, p)) + "%";
    if (f.value !== "") {
      link.push(encodeURIComponent(v.name) + "=" + encodeURIComponent(f.value)); }
  });
  var out = el("probability"), verdict = el("verdict");
  el("permalink").href = "?" + link.join("&");
  if (!ok) {
    out.dataset.probability = ""; out.dataset.valid = "false"; out.textContent = "\u2014";
    el("total").textContent = "\u2014"; el("total").dataset.totalPoints = "";
    verdict.className = "verdict none"; verdict.dataset.verdict = "";
    verdict.textContent = "Correct the highlighted input to see the probability.";
    el("dot").style.display = "none"; return;
  }
  var lp = S.lp0 + total * S.max_span / 100, prob = logistic(lp);
  out.dataset.probability = String(prob); out.dataset.valid = "true";
  out.textContent = fmt(100 * prob, 1) + " %";
  el("total").textContent = fmt(total, 1); el("total").dataset.totalPoints = String(total);
  el("dot").style.display = ""; el("dot").style.left = (100 * prob) + "%";
  var pos = prob >= S.cutoff;
  verdict.className = "verdict " + (pos ? "pos" : "neg");
  verdict.dataset.verdict = pos ? "above" : "below";
  verdict.textContent = (pos ? "At or above" : "Below") + " the cutoff of " +
    fmt(100 * S.cutoff, 1) + " %: " + (pos ? "classified positive" : "classified negative") +
    (S.label_rule ? " (" + (pos ? "" : "not ") + S.label_rule + ")" : "") + ".";
}
S.inputs.forEach(function(v){
  var f = el("in-" + v.name);
  f.addEventListener("input", function(){ delete f.dataset.query; update(); });
  f.addEventListener("change", function(){ delete f.dataset.query; update(); });
});
update();
})();
"""


def _fmt(v: float | None, digits: int = 2) -> str:
    if v is None:
        return ""
    return np.format_float_positional(round(float(v), digits), trim="-")


def _option_value(value) -> str:
    """An option's value as the page's script writes it (``String(2)`` is ``2``)."""
    return value if isinstance(value, str) else _fmt(value, 12)


def _input_html(v: dict) -> str:
    name = html.escape(v["name"])
    if "levels" in v:
        options = "".join(
            f'<option value="{html.escape(_option_value(lv["value"]))}"'
            f'{" selected" if lv["value"] == v["default"] else ""}>'
            f'{html.escape(lv["label"])}</option>' for lv in v["levels"])
        return f'<select id="in-{name}" name="{name}">{options}</select>'
    lo = f' min="{v["min"]}"' if v.get("min") is not None else ""
    hi = f' max="{v["max"]}"' if v.get("max") is not None else ""
    return (f'<input id="in-{name}" name="{name}" type="text" inputmode="decimal" '
            f'autocomplete="off"{lo}{hi} placeholder="{_fmt(v["default"])}">')


def _hint(v: dict) -> str:
    unit = f' {html.escape(v["unit"])}' if v.get("unit") else ""
    if v["kind"] == "categorical":
        return f'{len(v["levels"])} categories'
    if "levels" in v:
        return f'{v["kind"]}, {len(v["levels"])} levels'
    rng = ""
    if v.get("min") is not None or v.get("max") is not None:
        rng = f'allowed {_fmt(v.get("min"))}&ndash;{_fmt(v.get("max"))}{unit}; '
    return f'{rng}training {_fmt(v["train_min"])}&ndash;{_fmt(v["train_max"])}'


def render_calculator(spec: dict) -> str:
    """The page (one HTML string, inline CSS and JS, nothing loaded) of :func:`calculator_spec`."""
    rows = []
    for v in spec["inputs"]:
        name = html.escape(v["name"])
        unit = f'<small>{html.escape(v["unit"])}</small>' if v.get("unit") else ""
        rows.append(
            f'<tr id="row-{name}" data-name="{name}"><td class="lab"><b>{html.escape(v["label"])}'
            f'</b>{unit}</td><td>{_input_html(v)}<div class="hint"><small>{_hint(v)}</small></div>'
            f'</td><td class="note" id="note-{name}"></td><td class="pts"><span class="bar">'
            f'<i id="bar-{name}"></i></span><span class="pv" id="pts-{name}"></span></td></tr>')
    title = f'{html.escape(spec["level_label"])}: risk calculator'
    model_text = ("Combined model (Rad-score + clinical predictors)" if spec["model"] == "combined"
                  else "Clinical model")
    sim = ('<p class="warn"><b>Simulation.</b> This model was fitted on the built-in in-silico '
           'cohort: its numbers are not clinical evidence.</p>' if spec["simulated"] else "")
    spec_json = json.dumps(spec, sort_keys=True).replace("</", "<\\/")
    cut = 100 * spec["cutoff"]
    outcome = f': {html.escape(spec["label_rule"])}' if spec["label_rule"] else ""
    empty = (" An empty numeric field takes the training median, as the model does for a "
             "missing value." if any("levels" not in v for v in spec["inputs"]) else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p class="sub">{model_text}, logistic regression fitted on {spec["n_train"]} training patients
({spec["events_train"]} with the outcome{outcome}).
Level <code>{html.escape(spec["level"])}</code>. Points follow the level's nomogram.</p>
{sim}
<table>
<thead><tr><th>Predictor</th><th>Value</th><th></th><th>Points</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<section class="result">
<div><div class="k">Total points</div><div class="big" id="total" data-total-points=""></div>
<div class="k">of at most {_fmt(spec["max_total_points"], 1)} within the training ranges</div></div>
<div><div class="k">Predicted probability</div>
<output class="big" id="probability" data-probability="" data-valid="false"></output>
<div class="risk" aria-hidden="true"><span class="cut" style="left:{cut:.3f}%"></span>
<span class="dot" id="dot"></span></div>
<div class="scale">{"" if cut < 15 else '<span style="left:0">0 %</span>'}<span class="c"
style="left:{cut:.3f}%">cutoff {cut:.1f} %</span>{"" if cut > 85 else
'<span style="right:0">100 %</span>'}</div>
<div class="verdict none" id="verdict" data-verdict=""></div></div>
</section>
<footer>
The cutoff is the operating point chosen on the training set (results/tables/performance.csv);
a probability at or above it is classified positive.{empty} <a id="permalink" href="?">Link to these values</a>.
For research use: not a medical device.
</footer>
</main>
<script type="application/json" id="spec">{spec_json}</script>
<script>{_JS}</script>
</body>
</html>
"""


def write_calculator(model_dir: str | Path, performance: str | Path, out_html: str | Path, *,
                     level: str, model: str = "combined", variables: list[dict] | None = None,
                     level_label: str = "", label_rule: str = "",
                     simulated: bool = False) -> Path:
    """Write ``results/calculator/<level>.html`` from the saved model and the cutoff.

    Parameters
    ----------
    model_dir
        ``results/<level>/models`` (holds ``<model>.joblib``).
    performance
        ``results/tables/performance.csv`` (the training-chosen cutoff).
    out_html
        The page to write.
    level, model, variables, level_label, label_rule, simulated
        See :func:`calculator_spec`.
    """
    from alnburden.modeling.nomogram import has_predictor

    fitted = load_model(Path(model_dir) / f"{model}.joblib")
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not has_predictor(fitted):  # intercept-only: no predictor passed the clinical screen
        p = float(fitted.predict_proba(pd.DataFrame(index=[0]))[0, 1])
        title = html.escape(f"{level_label or level}: {model} model")
        out.write_text(
            f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body><h1>{title}</h1><p>This model has no "
            f"predictor (none passed the clinical predictor screen of the training set), so "
            f"it gives every patient the same probability, the training prevalence: "
            f"<span id=\"probability\" data-p=\"{p:.17g}\">{p:.3f}</span>. There is "
            f"nothing to calculate; see the clinical predictor table of this level.</p>"
            f"</body></html>\n", encoding="utf-8")
        return out
    cutoff = level_cutoff(pd.read_csv(performance), level, model)
    spec = calculator_spec(fitted, variables, cutoff=cutoff, level=level, level_label=level_label,
                           label_rule=label_rule, model_name=model, simulated=simulated)
    out.write_text(render_calculator(spec), encoding="utf-8")
    return out
