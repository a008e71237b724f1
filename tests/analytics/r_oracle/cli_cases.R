# R oracle for tests/analytics/test_analytics_r_oracle.py (the command line `python -m analytics estimate`).
#
# Regenerate from the repository root (R >= 4.2 with the survey package; the reference is Debian's
# r-cran-survey, survey 4.1.1):
#
#     Rscript tests/analytics/r_oracle/cli_cases.R
#
# It writes, beside itself, the CSV files the command line reads (one row per response, blank cell = no
# answer, integer scores 1-5), the composite groups (cli_groups.json) and the expected results
# (cli_expected.json). The test reads only those files: it never needs R.
#
# Conventions held by the oracle (one for every design):
#   * item share in a domain = svyciprop(~s, subset(des, domain & answered), method = m); estimate, SE,
#     CI and df = degf() of that subset; n = nrow() of that subset (the n svyciprop's "beta" uses,
#     zero-weight rows included). degf() counts only PSUs with a non-zero weight.
#   * mean score of an item = svyratio(~y, ~d) on the same subset, CI confint(..., df = degf(subset)).
#   * composites (definition A: coefficient-weighted mean of item shares or of item mean scores, and the
#     overall index over the groups) = svycontrast() of svyratio(~s_k, ~d_k, covmat = TRUE) on the DOMAIN
#     design subset(des, domain): composites keep the domain df and n = nrow(domain). Share composites
#     get the xlogit interval with that df; mean-score composites the t interval.
#   * NaN (and NA) from R is written as JSON null.

suppressPackageStartupMessages(library(survey))
data(api)

script_dir <- function() {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 0) return(getwd())
  dirname(normalizePath(sub("^--file=", "", file_arg[1])))
}
out_dir <- script_dir()
# The command lines in cli_expected.json run from the repository root, so they name files from there.
REL_DIR <- "tests/analytics/r_oracle"

if (packageVersion("survey") != "4.1.1") {
  warning("the committed oracle was generated with survey 4.1.1; this is survey ", packageVersion("survey"))
}

ITEMS <- c("q1", "q2", "q3", "q4")
METHODS <- c("beta", "xlogit", "logit", "asin", "mean")
ALL <- "_all"  # key of the whole sample (the command line prints it with "domain": {})

# Composite groups (definition A). The overall index is the equal-weight mean of the groups, so its
# item coefficients are 1/6, 1/6, 1/6 and 1/2.
GROUPS <- list(pupils = c("q1", "q2", "q3"), staff = c("q4"))

# ---------------------------------------------------------------------------------------------------
# Items: scores 1-5 derived from the api variables, with item non-response driven by other variables.

band <- function(x, breaks) as.integer(findInterval(x, breaks) + 1L)  # 1..5; NA stays NA
blank_where <- function(score, condition) {
  score[which(condition)] <- NA  # which(): a missing condition leaves the answer
  score
}

add_items <- function(d) {
  # q1: API 2000 (satisfied = score >= 4 = api00 >= 700); blank where pupil turnover is high
  d$q1 <- blank_where(band(d$api00, c(500, 600, 700, 800)), d$mobility >= 25)
  # q2: fewer pupils on free meals score higher (satisfied = meals < 50); blank where many learn English
  d$q2 <- blank_where(6L - band(d$meals, c(25, 50, 70, 90)), d$ell >= 45)
  # q3: parents with a college degree (satisfied = col.grad >= 25); blank where many teachers hold
  # emergency credentials
  d$q3 <- blank_where(band(d$col.grad, c(10, 18, 25, 35)), d$emer >= 20)
  # q4: fully credentialed teachers (satisfied = full >= 92); blank where parents' education is low
  d$q4 <- blank_where(band(d$full, c(75, 85, 92, 97)), d$avg.ed < 2.2)
  d$sch_wide <- as.character(d$sch.wide)
  d$stype <- as.character(d$stype)
  d$sw_stype <- paste(d$sch_wide, d$stype, sep = ":")
  for (k in ITEMS) {
    answered <- !is.na(d[[k]])
    d[[paste0("d_", k)]] <- as.numeric(answered)                     # answered the item
    d[[paste0("s_", k)]] <- as.numeric(answered & d[[k]] >= 4)         # satisfied (0 if blank)
    d[[paste0("y_", k)]] <- ifelse(answered, d[[k]], 0)                # score (0 if blank)
  }
  d
}

# ---------------------------------------------------------------------------------------------------
# Data sets and their designs. Column pw of each data set holds the weights its design uses; the CSV
# files hold the design columns, the domain columns and the items.

# apistrat: stratified by school type, schools sampled without replacement (fpc = schools in stratum).
# Schools whose snum is a multiple of 20 get weight 0 (zero-weight rows, each its own PSU).
strat <- add_items(apistrat)
strat$pw[strat$snum %% 20 == 0] <- 0
strat_des <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)

# apiclus1: one-stage cluster sample of school districts (fpc = 757 districts). District 406 (two
# schools) gets weight 0 (a zero-weight PSU) and so does one school of district 716.
clus1 <- add_items(apiclus1)
clus1$pw[clus1$dnum == 406] <- 0
clus1$pw[clus1$snum == min(clus1$snum[clus1$dnum == 716])] <- 0
clus1_des <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)

# apiclus2: two-stage sample, districts then schools (fpc1 = districts, fpc2 = schools in the district).
# The weights are those the design derives from the fpc (they equal apiclus2$pw to 1e-13).
clus2 <- add_items(apiclus2)
clus2_des <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
clus2$pw <- weights(clus2_des)

# apiclus1 districts put in strata: S1 (dnum < 400), S2 (the others) and the largest district, 716, as
# a certainty stratum (fpc N_h = n_h = 1: no variance contribution, never a lonely stratum). The
# weights are N_h / n_h.
stratified_clusters <- function(stratum_of, population) {
  d <- add_items(apiclus1)
  d$stratum <- stratum_of(d$dnum)
  d$fpc <- unname(population[d$stratum])
  des <- svydesign(id = ~dnum, strata = ~stratum, fpc = ~fpc, data = d)
  d$pw <- weights(des)
  list(data = d, design = svydesign(id = ~dnum, strata = ~stratum, weights = ~pw, fpc = ~fpc, data = d))
}
cert <- stratified_clusters(
  function(dnum) ifelse(dnum == 716, "CERT", ifelse(dnum < 400, "S1", "S2")),
  c(S1 = 350, S2 = 406, CERT = 1)
)
# The same with district 510 alone in stratum LONE (N_h = 3, n_h = 1): a lonely stratum, handled by
# options(survey.lonely.psu = ...).
lonely <- stratified_clusters(
  function(dnum) ifelse(dnum == 716, "CERT", ifelse(dnum == 510, "LONE", ifelse(dnum < 400, "S1", "S2"))),
  c(S1 = 350, S2 = 403, CERT = 1, LONE = 3)
)

# ---------------------------------------------------------------------------------------------------
# Estimates

xlogit_ci <- function(p, se, df, level = 0.95) {
  t <- qt(1 - (1 - level) / 2, df)
  plogis(qlogis(p) + c(-1, 1) * t * se / (p * (1 - p)))
}

as_array <- function(x) structure(x, array = TRUE)  # written as a JSON array even when of length 1

record <- function(method, estimate, se, df, n, ci) {
  list(method = method, estimate = unname(estimate), se = unname(se), df = as.integer(df),
       n = as.integer(n), ci = as_array(unname(as.numeric(ci))))
}

item_share <- function(answered, k, method) {
  r <- suppressWarnings(svyciprop(as.formula(paste0("~s_", k)), answered, method = method))
  record(method, coef(r), SE(r), degf(answered), nrow(answered), attr(r, "ci"))
}

item_mean <- function(answered, k) {
  r <- svyratio(as.formula(paste0("~y_", k)), as.formula(paste0("~d_", k)), answered)
  df <- degf(answered)
  record("t", coef(r), SE(r), df, nrow(answered), confint(r, df = df))
}

composite <- function(domain_des, coefficients, kind) {
  items <- names(coefficients)
  num <- paste0(if (kind == "share") "s_" else "y_", items)
  den <- paste0("d_", items)
  r <- svyratio(make.formula(num), make.formula(den), domain_des, covmat = TRUE)
  cc <- svycontrast(r, setNames(coefficients, paste0(num, "/", den)))
  est <- as.numeric(coef(cc))
  se <- as.numeric(SE(cc))
  df <- degf(domain_des)
  ci <- if (kind == "share") xlogit_ci(est, se, df) else confint(cc, df = df)
  record(if (kind == "share") "xlogit" else "t", est, se, df, nrow(domain_des), ci)
}

composite_coefficients <- function() {
  groups <- lapply(GROUPS, function(g) setNames(rep(1 / length(g), length(g)), g))
  overall <- setNames(rep(0, length(ITEMS)), ITEMS)
  for (g in groups) overall[names(g)] <- overall[names(g)] + g / length(groups)
  c(groups, list(overall = overall[overall > 0]))
}
COMPOSITES <- composite_coefficients()

# All estimates of one command-line run: the whole sample and each value of `by`.
estimate_all <- function(des, by, method) {
  values <- des$variables[[by]]
  out <- list()
  for (dom in c(ALL, sort(unique(values)))) {
    in_domain <- if (dom == ALL) rep(TRUE, nrow(des)) else values == dom
    domain_des <- subset(des, in_domain)
    targets <- list()
    for (k in ITEMS) {
      answered <- subset(des, in_domain & !is.na(des$variables[[k]]))
      targets[[k]] <- list(share = item_share(answered, k, method), mean = item_mean(answered, k))
    }
    for (g in names(COMPOSITES)) {
      targets[[g]] <- list(share = composite(domain_des, COMPOSITES[[g]], "share"),
                           mean = composite(domain_des, COMPOSITES[[g]], "mean"))
    }
    out[[dom]] <- targets
  }
  out
}

# ---------------------------------------------------------------------------------------------------
# Cases: one command-line run each (one design, one --by column, one --ci method, one lonely rule).

FILES <- list(
  apistrat = list(file = "cli_apistrat.csv", data = strat, design = strat_des,
                  columns = c("snum", "stype", "pw", "fpc"),
                  args = c("--weight", "pw", "--strata", "stype", "--fpc", "fpc")),
  apiclus1 = list(file = "cli_apiclus1.csv", data = clus1, design = clus1_des,
                  columns = c("snum", "dnum", "pw", "fpc"),
                  args = c("--weight", "pw", "--psu", "dnum", "--fpc", "fpc")),
  apiclus2 = list(file = "cli_apiclus2.csv", data = clus2, design = clus2_des,
                  columns = c("snum", "dnum", "pw", "fpc1", "fpc2"),
                  args = c("--weight", "pw", "--psu", "dnum,snum", "--fpc", "fpc1,fpc2")),
  certainty = list(file = "cli_certainty.csv", data = cert$data, design = cert$design,
                   columns = c("snum", "dnum", "stratum", "pw", "fpc"),
                   args = c("--weight", "pw", "--strata", "stratum", "--psu", "dnum", "--fpc", "fpc")),
  lonely = list(file = "cli_lonely.csv", data = lonely$data, design = lonely$design,
                columns = c("snum", "dnum", "stratum", "pw", "fpc"),
                args = c("--weight", "pw", "--strata", "stratum", "--psu", "dnum", "--fpc", "fpc"))
)

# Each command line costs the test an interpreter start, so every case is one run and the five CI
# methods are spread over the designs; each method meets a 0 % or 100 % domain (No:H of the apiclus1
# districts: three schools, q1 0 %, q2 100 %) in at least one case.
# name parts: data set, --by column, --ci method, survey.lonely.psu (NA: the default, "fail")
CASES <- data.frame(
  dataset = c("apiclus1", "apiclus2", "apistrat", "certainty", "certainty",
              "lonely", "lonely", "lonely", "lonely", "lonely"),
  by = c("sw_stype", "sw_stype", "stype", "sw_stype", "sw_stype",
         "sch_wide", "sw_stype", "sw_stype", "sw_stype", "sch_wide"),
  method = c("beta", "xlogit", "asin", "logit", "mean",
             "beta", "asin", "xlogit", "beta", "beta"),
  lonely = c(NA, NA, NA, NA, "average",
             "certainty", "remove", "average", "adjust", NA)
)
CASES$name <- with(CASES, paste(dataset, by, method, ifelse(is.na(lonely), "default", lonely), sep = "-"))

run_case <- function(case) {
  f <- FILES[[case$dataset]]
  old <- options(survey.lonely.psu = if (is.na(case$lonely)) "fail" else case$lonely)
  on.exit(options(old))
  args <- c("--items", paste(ITEMS, collapse = ","), f$args, "--by", case$by,
            "--groups", file.path(REL_DIR, "cli_groups.json"), "--ci", case$method, "--r-compatible")
  if (!is.na(case$lonely)) args <- c(args, "--lonely-psu", case$lonely)
  result <- list(data = file.path(REL_DIR, f$file), args = as_array(args),
                 r_lonely_psu = getOption("survey.lonely.psu"))
  est <- tryCatch(estimate_all(f$design, case$by, case$method), error = function(e) e)
  if (inherits(est, "error")) {
    result$error <- conditionMessage(est)
  } else {
    result$design <- list(n = nrow(f$design), df = degf(f$design))
    result$estimates <- est
  }
  result
}

# ---------------------------------------------------------------------------------------------------
# Checks that the data exercise what the oracle is for (stop if a change of the items loses one).

check_properties <- function() {
  des <- clus1_des
  in_dom <- function(dom) des$variables$sw_stype == dom
  shares <- sapply(sort(unique(des$variables$sw_stype)), function(dom) sapply(ITEMS, function(k) {
    a <- subset(des, in_dom(dom) & !is.na(des$variables[[k]]))
    coef(svymean(as.formula(paste0("~s_", k)), a))
  }))
  stopifnot("a 0 % domain" = any(shares == 0), "a 100 % domain" = any(shares == 1))
  stopifnot("a tiny domain" = sum(in_dom("No:H")) <= 3)
  stopifnot("a zero-weight PSU" = degf(des) == length(unique(des$variables$dnum)) - 2)
  stopifnot("every CI method in some case" = setequal(CASES$method, METHODS))
}

# Some PSU has domain members none of whom answered an item, so that item's df is below the domain's.
check_answered_df <- function(name, estimates) {
  below <- sapply(estimates, function(targets) any(sapply(ITEMS, function(k) {
    targets[[k]]$share$df < targets$overall$share$df
  })))
  if (!any(below)) stop(name, ": no domain whose answered df differs from its domain df")
}

check_properties()

# ---------------------------------------------------------------------------------------------------
# Writing: numbers with 17 significant digits (round trip of a double), NaN/NA as null.

json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.list(x)) {
    keys <- names(x)
    body <- vapply(seq_along(x), function(i) paste0(inner, encodeString(keys[i], quote = '"'), ": ",
                                                    json(x[[i]], inner)), "")
    return(paste0("{\n", paste(body, collapse = ",\n"), "\n", indent, "}"))
  }
  scalar <- function(v) {
    if (is.character(v)) return(encodeString(v, quote = '"'))
    if (is.na(v) || !is.finite(v)) return("null")
    if (is.integer(v)) return(as.character(v))
    sprintf("%.17g", v)
  }
  parts <- vapply(x, scalar, "")
  if (length(x) == 1 && is.null(attr(x, "array"))) parts else paste0("[", paste(parts, collapse = ", "), "]")
}
write_data <- function(f) {
  d <- f$data[, unique(c(f$columns, "sch_wide", "stype", "sw_stype", ITEMS))]
  d$pw <- sprintf("%.17g", d$pw)
  write.csv(d, file.path(out_dir, f$file), row.names = FALSE, na = "", quote = FALSE)
}

cases <- list()
for (i in seq_len(nrow(CASES))) {
  case <- CASES[i, ]
  r <- run_case(case)
  if (!is.null(r$estimates)) check_answered_df(case$name, r$estimates)
  cases[[case$name]] <- r
}

for (f in FILES) write_data(f)
writeLines(json(lapply(GROUPS, as_array)), file.path(out_dir, "cli_groups.json"))
expected <- list(
  generated_by = "tests/analytics/r_oracle/cli_cases.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survey_version = as.character(packageVersion("survey")),
  whole_sample_key = ALL,
  cases = cases
)
writeLines(json(expected), file.path(out_dir, "cli_expected.json"))
cat("wrote", length(cases), "cases to", file.path(out_dir, "cli_expected.json"), "\n")
