"""Analysis scripts that travel in an export bundle: ``analysis.R`` (tested), ``analysis.sps`` and ``analysis.do``.

``analysis.R`` recomputes, from the bundle's data file alone, the figures the application publishes for the
export's scope and period (``indices.csv``, :mod:`survey.services.exports.indices_file`) and writes them
to ``indices-r.csv`` with the same rows and columns. Everything it needs is spelled out in the script, so
it runs verbatim with R's ``survey`` package (and ``haven`` for .sav/.dta, ``readxl`` for .xlsx):

* the read step in the file's own format, the status filter and the missing codes 8 and 9;
* the design of the dashboard: agencies as strata, counter-days as PSUs, with replacement,
  ``options(survey.lonely.psu = "certainty")``;
* items over "domain and answered" (``subset(des, !is.na(q))``, their own df); elements and the overall
  index (definition A: a weighted mean of item shares or mean scores) by ``svytotal`` + ``svycontrast``
  (the delta method on the item totals: the linearisation of ``svyratio``) on the scope's design with its df;
* the intervals R does not offer: the NCHS-adjusted Korn–Graubard interval of item shares (R's
  ``svyciprop(method = "beta")`` has no cap at n and no boundary rule), xlogit for composites with the
  boundary rule, t intervals for means; and the reliability flags of :mod:`analytics.flags`, rule for rule.

The SPSS syntax computes weighted frequencies (PSPP runs it on the .sav and CSV files; its .xlsx read step,
``GET DATA /TYPE=XLSX``, is SPSS-only and untested); its CSPLAN/CSDESCRIPTIVES part needs SPSS Complex
Samples and is untested, as is the Stata do-file (Stata is not available to the project). CSV and Excel
bundles carry both, .sav bundles the syntax, .dta bundles the do-file.
"""

from __future__ import annotations

from analytics.tables import NOT_ANSWERED, NOT_APPLICABLE
from survey.services.exports.codebook import LONELY_PSU, PSU_COLUMN, STATUS_COLUMN, STRATUM_COLUMN, VALID_STATUS
from survey.services.exports.codebook import WEIGHT_COLUMN as WEIGHT
from survey.services.exports.indices_file import COLUMNS, FILE_NAME
from survey.services.exports.responses import ExportPlan
from survey.services.exports.schema import category_column

R_SCRIPT = "analysis.R"
R_OUTPUT = "indices-r.csv"
SPSS_SCRIPT = "analysis.sps"
STATA_SCRIPT = "analysis.do"


def _r_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _r_vector(values: dict[str, float]) -> str:
    return "c(" + ", ".join(f"{_r_string(k)} = {float(v)!r}" for k, v in values.items()) + ")"


def valid_status_code() -> int:
    """The numeric code of ``valid`` in .sav and .dta files."""
    return category_column(STATUS_COLUMN).numeric_codes[VALID_STATUS]


_R_TEMPLATE = r"""# SIPAS: recompute the published indices (@@INDICES@@) from this export.
# Run inside the unzipped bundle:   Rscript @@SCRIPT@@ [DATA FILE]
# Writes @@OUTPUT@@ with the same rows and columns as @@INDICES@@.
# Needs the R package survey (4.1 or later); haven for .sav/.dta, readxl for .xlsx.
# Instrument @@INSTRUMENT@@, @@FROM@@ to @@TO@@, @@AGENCIES@@ agencies.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "@@LONELY@@")  # as the application: a stratum with one PSU adds no variance

args <- commandArgs(trailingOnly = TRUE)
data_file <- if (length(args) >= 1) args[1] else @@DATA@@
ext <- tolower(tools::file_ext(data_file))

# -- read the data file in its own format ---------------------------------------------------------------
if (ext == "csv") {
  # UTF-8 with a byte-order mark, comma-separated, empty = missing; 8 and 9 are numbers here
  d <- read.csv(data_file, fileEncoding = "UTF-8-BOM", na.strings = "", stringsAsFactors = FALSE)
} else if (ext %in% c("sav", "dta")) {
  # haven turns SPSS user-missing 8/9 and Stata .a/.b into NA; drop labels so codes compare as numbers
  raw <- if (ext == "sav") haven::read_sav(data_file) else haven::read_dta(data_file)
  d <- as.data.frame(haven::zap_formats(haven::zap_labels(raw)))
} else if (ext == "xlsx") {
  d <- as.data.frame(readxl::read_xlsx(data_file, sheet = "data"))
} else {
  stop("unknown data file type: ", data_file)
}

items <- @@ITEMS@@
# element -> item weights within the element; element weights in the overall index (definition A)
elements <- list(
@@ELEMENTS@@
)
element_weight <- @@ELEMENT_WEIGHTS@@
satisfied_from <- @@SATISFIED@@
level <- 0.95

# -- status filter and missing codes -----------------------------------------------------------------------
# CSV and Excel hold the text code ("valid"); SPSS and Stata the number @@VALID_CODE@@ (label "Hợp lệ")
status <- d[["@@STATUS@@"]]
keep <- if (is.character(status)) status == "@@VALID@@" else status == @@VALID_CODE@@
d <- d[!is.na(keep) & keep, , drop = FALSE]
for (q in items) {
  d[[q]] <- as.numeric(d[[q]])
  d[[q]][d[[q]] %in% c(8, 9)] <- NA  # not applicable / not answered: never scores
  d[[paste0("a_", q)]] <- as.numeric(!is.na(d[[q]]))                              # answered
  d[[paste0("s_", q)]] <- ifelse(is.na(d[[q]]), 0, as.numeric(d[[q]] >= satisfied_from))  # satisfied
  d[[paste0("y_", q)]] <- ifelse(is.na(d[[q]]), 0, d[[q]])                         # score
}
d$@@STRATUM@@ <- as.character(d$@@STRATUM@@)
d$@@PSU@@ <- as.character(d$@@PSU@@)

des <- svydesign(ids = ~@@PSU@@, strata = ~@@STRATUM@@, weights = ~@@WEIGHT@@, data = d, nest = TRUE)
domain_df <- degf(des)
n_resp <- nrow(d)

# -- intervals and flags, as the methodology page and analytics/intervals.py, analytics/flags.py ----------
TIE <- 1e-9
degenerate <- function(p, v) p <= 0 || p >= 1 || v <= 1e-18 * p * (1 - p)
korn_graubard <- function(p, v, n, df) {
  # NCHS-adjusted: n* = p(1-p)/V (n at the boundary), n_KG = min(n, n* (t_{n-1}/t_df)^2)
  if (!(df > 0) || !is.finite(p)) return(c(NA_real_, NA_real_))
  a <- 1 - level
  n_star <- if (degenerate(p, v)) n else p * (1 - p) / v
  ratio2 <- if (n - 1 > 0) (qt(a / 2, n - 1) / qt(a / 2, df))^2 else NA_real_
  n_kg <- min(n, n_star * ratio2)
  if (p >= 1) return(c((a / 2)^(1 / n_kg), 1))
  if (p <= 0) return(c(0, 1 - (a / 2)^(1 / n_kg)))
  lo <- if (n_kg * p > 0 && n_kg * (1 - p) + 1 > 0) qbeta(a / 2, n_kg * p, n_kg * (1 - p) + 1) else NA_real_
  hi <- if (n_kg * p + 1 > 0 && n_kg * (1 - p) > 0) qbeta(1 - a / 2, n_kg * p + 1, n_kg * (1 - p)) else NA_real_
  c(lo, hi)
}
xlogit <- function(p, se, n, df) {
  if (!(df > 0) || !is.finite(p)) return(c(NA_real_, NA_real_))
  if (degenerate(p, se^2)) return(korn_graubard(p, se^2, n, df))  # boundary rule
  half <- qt(1 - (1 - level) / 2, df) * se / (p * (1 - p))
  plogis(qlogis(p) + c(-half, half))
}
n_eff_of <- function(p, se, n) {
  if (!is.finite(p) || !is.finite(se)) return(NA_real_)
  if (p <= 0 || p >= 1 || se <= 0) return(n)
  min(n, p * (1 - p) / se^2)
}
not_estimable <- function(df, x) !(df > 0) || !all(is.finite(x))
share_flags <- function(p, se, n, df, lo, hi) {
  if (not_estimable(df, c(p, se, lo, hi))) return("not_estimable")
  boundary <- p <= 0 || p >= 1
  width <- if (boundary) 0 else hi - lo
  if (n_eff_of(p, se, n) < 30 * (1 - TIE)) return("suppress_small_n_eff")
  out <- character(0)
  if (width > 0.05 * (1 + TIE)) {
    if (width >= 0.30 * (1 - TIE)) return("suppress_wide_ci")
    if (width / p > 1.30 * (1 + TIE)) return("suppress_relative_width")
    if (width / (1 - p) > 1.30 * (1 + TIE)) out <- c(out, "review_complement")
  }
  if (df < 8) out <- c(out, "low_df")
  if (boundary) out <- c(out, "boundary")
  out
}
mean_flags <- function(n, df, m, se, lo, hi) {
  if (not_estimable(df, c(m, se, lo, hi))) return("not_estimable")
  out <- character(0)
  if (n < 30) out <- c(out, "suppress_small_n")
  if ((hi - lo) / 2 > 0.25 * (1 + TIE)) out <- c(out, "review_wide_ci")
  if (df < 8) out <- c(out, "low_df")
  out
}
num <- function(x) if (is.finite(x)) sprintf("%.17g", x) else "NA"
rows <- list()
add <- function(lvl, target, kind, est, se, ci, df, n, flags, method) {
  rows[[length(rows) + 1]] <<- c(level = lvl, target = target, kind = kind, estimate = num(est), se = num(se),
    ci_low = num(ci[1]), ci_high = num(ci[2]), df = as.character(df), n = as.character(n),
    flags = paste(flags, collapse = ";"), ci_method = method)
}

# -- items: over "domain and answered" ----------------------------------------------------------------------
item_rows <- list()
answered <- character(0)
for (q in items) {
  sub <- subset(des, !is.na(d[[q]]))
  n <- sum(!is.na(d[[q]]))
  if (n == 0) next  # no valid answer in scope: left out of its element
  answered <- c(answered, q)
  df <- degf(sub)
  f_share <- as.formula(paste0("~s_", q)); f_mean <- as.formula(paste0("~", q))
  m <- svymean(f_share, sub); p <- as.numeric(coef(m)); se <- as.numeric(SE(m))
  ci <- korn_graubard(p, se^2, n, df)
  item_rows[[q]] <- list(
    share = list(p, se, ci, df, n, share_flags(p, se, n, df, ci[1], ci[2]), "korn-graubard-nchs"))
  m <- svymean(f_mean, sub); y <- as.numeric(coef(m)); se <- as.numeric(SE(m))
  ci <- y + c(-1, 1) * qt(1 - (1 - level) / 2, df) * se
  item_rows[[q]]$mean <- list(y, se, ci, df, n, mean_flags(n, df, y, se, ci[1], ci[2]), "t")
}

# -- composites (definition A): weighted means of item ratios, by svytotal + svycontrast -------------------
groups <- lapply(elements, function(w) w[names(w) %in% answered])
groups <- groups[vapply(groups, length, 1L) > 0]
coefs <- lapply(groups, function(w) w / sum(w))
b <- element_weight[names(groups)] / sum(element_weight[names(groups)])
overall <- numeric(0)
for (g in names(coefs)) for (q in names(coefs[[g]])) {
  overall[q] <- (if (is.na(overall[q])) 0 else overall[q]) + b[[g]] * coefs[[g]][[q]]
}
# the totals of s_q (satisfied), y_q (score) and a_q (answered) with their joint covariance; a composite
# sum_q a_q X_q / Z_q is a smooth function of them, and svycontrast's delta method is the same Taylor
# linearisation as svyratio's (svyratio(~s_q01 + ..., ~a_q01 + ...) gives every num x den pair: slow)
totals <- svytotal(as.formula(paste0("~", paste(c(paste0("s_", answered), paste0("y_", answered),
                                                   paste0("a_", answered)), collapse = "+"))), des)
composite <- function(kind, a) {
  prefix <- if (kind == "share") "s_" else "y_"
  terms <- paste0(sprintf("%.17g", a), " * ", prefix, names(a), " / a_", names(a))
  cst <- svycontrast(totals, parse(text = paste(terms, collapse = " + "))[[1]])
  est <- as.numeric(coef(cst)); se <- as.numeric(SE(cst))
  if (kind == "share") {
    ci <- xlogit(est, se, n_resp, domain_df)
    list(est, se, ci, domain_df, n_resp, share_flags(est, se, n_resp, domain_df, ci[1], ci[2]), "xlogit")
  } else {
    ci <- est + c(-1, 1) * qt(1 - (1 - level) / 2, domain_df) * se
    list(est, se, ci, domain_df, n_resp, mean_flags(n_resp, domain_df, est, se, ci[1], ci[2]), "t")
  }
}
emit <- function(lvl, target, r) add(lvl, target, r$kind, r$v[[1]], r$v[[2]], r$v[[3]], r$v[[4]], r$v[[5]],
                                    r$v[[6]], r$v[[7]])
for (kind in c("share", "mean")) emit("overall", "overall", list(kind = kind, v = composite(kind, overall)))
for (g in names(elements)) if (g %in% names(coefs)) {
  for (kind in c("share", "mean")) emit("element", g, list(kind = kind, v = composite(kind, coefs[[g]])))
}
for (q in items) if (q %in% answered) {
  for (kind in c("share", "mean")) emit("criterion", q, list(kind = kind, v = item_rows[[q]][[kind]]))
}

out <- as.data.frame(do.call(rbind, rows), stringsAsFactors = FALSE)
out <- out[, c(@@COLUMNS@@)]
write.csv(out, "@@OUTPUT@@", row.names = FALSE, quote = TRUE, na = "NA", fileEncoding = "UTF-8")
cat("wrote @@OUTPUT@@:", nrow(out), "rows\n")
"""


def r_script(plan: ExportPlan, data_name: str) -> str:
    """``analysis.R`` for one export whose data file is ``data_name`` (beside the script)."""
    ins = plan.instrument
    elements = ",\n".join(
        f"  {_r_string(e.code)} = {_r_vector({i.code: i.weight for i in e.items})}" for e in ins.elements
    )
    values = {
        "@@INDICES@@": FILE_NAME,
        "@@SCRIPT@@": R_SCRIPT,
        "@@OUTPUT@@": R_OUTPUT,
        "@@INSTRUMENT@@": ins.label,
        "@@FROM@@": plan.date_from.isoformat(),
        "@@TO@@": plan.date_to.isoformat(),
        "@@AGENCIES@@": str(len(plan.agency_codes)),
        "@@LONELY@@": LONELY_PSU,
        "@@DATA@@": _r_string(data_name),
        "@@ITEMS@@": "c(" + ", ".join(_r_string(item.code) for item in ins.items) + ")",
        "@@ELEMENTS@@": elements,
        "@@ELEMENT_WEIGHTS@@": _r_vector({e.code: e.weight for e in ins.elements}),
        "@@SATISFIED@@": str(int(ins.scale.get("satisfied_from", 4))),
        "@@VALID_CODE@@": str(valid_status_code()),
        "@@VALID@@": VALID_STATUS,
        "@@STATUS@@": STATUS_COLUMN,
        "@@STRATUM@@": STRATUM_COLUMN,
        "@@PSU@@": PSU_COLUMN,
        "@@WEIGHT@@": WEIGHT,
        "@@COLUMNS@@": ", ".join(_r_string(c) for c in COLUMNS),
    }
    text = _R_TEMPLATE
    for key, value in values.items():
        text = text.replace(key, value)
    return text


#: PSPP/SPSS input formats of the CSV columns, by kind (text widths: the longest a cell of that kind holds).
_SPSS_INPUT = {"integer": "F20.0", "number": "F40.0", "score": "F1.0", "category": "A40", "text": "A255"}
_SPSS_TEXT_WIDTH = {"comment": 32767, "exclusion_reason": 4000, "psu": 255, "submission_id": 36}


def _spss_read(plan: ExportPlan, data_name: str) -> list[str]:
    """The read step of ``analysis.sps`` in the data file's own format."""
    fmt = plan.request.format
    codes = plan.item_codes
    if fmt == "sav":
        return [
            f"GET FILE='{data_name}'.",
            f"* {NOT_APPLICABLE} and {NOT_ANSWERED} are user-missing in the .sav file: a comparison with them is "
            "missing, so s_q",
            "* counts answered items only.",
            f"SELECT IF ({STATUS_COLUMN} = {valid_status_code()}).",
        ]
    if fmt == "csv":
        variables = []
        for col in plan.columns:
            spec = _SPSS_INPUT[col.kind]
            if col.kind == "text":
                spec = f"A{_SPSS_TEXT_WIDTH.get(col.name, 255)}"
            if col.name == "date":
                spec = "SDATE10"
            variables.append(f"  {col.name} {spec}")
        read = [
            "* The CSV: UTF-8 (the byte-order mark sits in the header line, which is skipped), comma-separated,",
            '* " quotes; an empty cell is missing. Numbers are read with no implied decimals (F40.0 keeps the',
            "* decimals written in the file).",
            f"GET DATA /TYPE=TXT /FILE='{data_name}' /ENCODING='UTF-8'",
            '  /ARRANGEMENT=DELIMITED /DELCASE=LINE /FIRSTCASE=2 /DELIMITERS="," /QUALIFIER=\'"\'',
            "  /VARIABLES=",
            *variables[:-1],
            variables[-1] + ".",
        ]
    else:
        read = [
            "* GET DATA /TYPE=XLSX is SPSS syntax (SPSS 16 or later); GNU PSPP 1.6 cannot read .xlsx, so this read",
            "* step is UNTESTED. In PSPP use the CSV or .sav export of the same data, whose analysis.sps is tested.",
            f"GET DATA /TYPE=XLSX /FILE='{data_name}' /SHEET=NAME 'data' /CELLRANGE=FULL /READNAMES=ON",
            "  /ASSUMEDSTRWIDTH=32767.",
        ]
    return [
        *read,
        f"* {NOT_APPLICABLE} = not applicable and {NOT_ANSWERED} = not answered are never scores: declared "
        "missing, a comparison",
        "* with them is missing, so s_q counts answered items only.",
        f"MISSING VALUES {' '.join(codes)} ({NOT_APPLICABLE}, {NOT_ANSWERED}).",
        f"SELECT IF ({STATUS_COLUMN} = '{VALID_STATUS}').",
    ]


def spss_script(plan: ExportPlan, data_name: str) -> str:
    """``analysis.sps``: weighted shares of satisfied answers per criterion, valid responses only (PSPP runs
    it on .sav and CSV files; the .xlsx read step is SPSS-only), written to ``shares-spss.csv``; the
    design-based part is commented out."""
    ins = plan.instrument
    codes = plan.item_codes
    satisfied = int(ins.scale.get("satisfied_from", 4))
    computes = "\n".join(f"COMPUTE s_{q} = ({q} >= {satisfied})." for q in codes)
    shares = " ".join(f"s_{q}" for q in codes)
    means = "\n".join(f"  /s_{q} = MEAN(s_{q})" for q in codes)
    period = f"{plan.date_from} to {plan.date_to}"
    tested = (
        "* UNTESTED read step (SPSS only, see below); the rest is tested with GNU PSPP on the CSV and .sav exports."
        if plan.request.format == "xlsx"
        else f"* Tested with GNU PSPP (weighted frequencies): the shares equal the criterion shares in {FILE_NAME}."
    )
    read = "\n".join(_spss_read(plan, data_name))
    return f"""* SIPAS: weighted shares of satisfied answers per criterion ({ins.label}, {period}).
{tested}
* Standard errors and intervals need the design (strata = {STRATUM_COLUMN}, PSU = {PSU_COLUMN}): the CSPLAN and
* CSDESCRIPTIVES commands at the end need the SPSS Complex Samples module, are UNTESTED, and are left as
* comments (PSPP has no complex-samples procedures). {R_SCRIPT} recomputes every published figure.
{read}
WEIGHT BY {WEIGHT}.
{computes}
DESCRIPTIVES VARIABLES = {shares} /STATISTICS = MEAN.
COMPUTE scope = 1.
AGGREGATE OUTFILE = *
  /BREAK = scope
{means}.
FORMATS {shares} (F20.16).
SAVE TRANSLATE /OUTFILE = 'shares-spss.csv' /TYPE = CSV /FIELDNAMES /REPLACE.
* Design-based estimates (SPSS Complex Samples only, untested):
* CSPLAN ANALYSIS /PLAN FILE = 'sipas.csaplan' /PLANVARS ANALYSISWEIGHT = {WEIGHT}
*   /DESIGN STRATA = {STRATUM_COLUMN} CLUSTER = {PSU_COLUMN} /ESTIMATOR TYPE = WR.
* CSDESCRIPTIVES /PLAN FILE = 'sipas.csaplan' /SUMMARY VARIABLES = {shares} /MEAN /STATISTICS SE CIN(95).
"""


def _stata_read(plan: ExportPlan, data_name: str) -> list[str]:
    """The read step and status filter of ``analysis.do`` in the data file's own format."""
    fmt = plan.request.format
    codes = plan.item_codes
    if fmt == "dta":
        return [
            f'use "{data_name}", clear',
            f"keep if {STATUS_COLUMN} == {valid_status_code()}",
            "* 8 and 9 are the extended missing values .a and .b: missing in every estimate",
        ]
    if fmt == "csv":
        read = f'import delimited using "{data_name}", clear encoding("utf-8") varnames(1) bindquote(strict)'
    else:
        read = f'import excel using "{data_name}", sheet("data") firstrow clear'
    return [
        read,
        f'keep if {STATUS_COLUMN} == "{VALID_STATUS}"',
        f"* {NOT_APPLICABLE} = not applicable and {NOT_ANSWERED} = not answered become the extended missing values "
        ".a and .b",
        f"mvdecode {' '.join(codes)}, mv({NOT_APPLICABLE}=.a \\ {NOT_ANSWERED}=.b)",
    ]


def stata_script(plan: ExportPlan, data_name: str) -> str:
    """``analysis.do`` (UNTESTED: Stata is not available to the project), reading the bundle's data file."""
    ins = plan.instrument
    codes = plan.item_codes
    satisfied = int(ins.scale.get("satisfied_from", 4))
    lines = [
        "* UNTESTED: written for Stata 14 or later, never run (Stata is not available to the SIPAS project).",
        f"* SIPAS {ins.label}, {plan.date_from} to {plan.date_to}: item shares and mean scores with the design;",
        f"* {R_SCRIPT} recomputes every published figure of {FILE_NAME} (Stata has no NCHS Korn-Graubard interval).",
        *_stata_read(plan, data_name),
        f"svyset {PSU_COLUMN} [pweight = {WEIGHT}], strata({STRATUM_COLUMN}) vce(linearized) singleunit(certainty)",
    ]
    for q in codes:
        lines.append(f"generate byte s_{q} = {q} >= {satisfied} if !missing({q})")
    for q in codes:
        lines.append(f"svy: proportion s_{q}")
        lines.append(f"svy: mean {q}")
    return "\n".join(lines) + "\n"


#: The scripts beside ``analysis.R``, per format: an SPSS file gets SPSS syntax, a Stata file a do-file, and the
#: formats every package reads (CSV, Excel) both.
EXTRA_SCRIPTS = {"csv": (SPSS_SCRIPT, STATA_SCRIPT), "xlsx": (SPSS_SCRIPT, STATA_SCRIPT), "sav": (SPSS_SCRIPT,)}
EXTRA_SCRIPTS["dta"] = (STATA_SCRIPT,)


def scripts_for(plan: ExportPlan, data_name: str) -> dict[str, str]:
    """The analysis scripts of a bundle: ``analysis.R`` always, and :data:`EXTRA_SCRIPTS` for its format."""
    out = {R_SCRIPT: r_script(plan, data_name)}
    writers = {SPSS_SCRIPT: spss_script, STATA_SCRIPT: stata_script}
    for name in EXTRA_SCRIPTS[plan.request.format]:
        out[name] = writers[name](plan, data_name)
    return out
