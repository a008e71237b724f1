# R oracle for tests/analytics/test_analytics_multistage.py: variances of analytics.design against R's
# svyrecvar (certainty strata, lonely PSUs including "adjust", multi-stage designs, domains).
#
# Regenerate from the repository root (the reference is Debian's r-cran-survey, survey 4.1.1):
#
#     Rscript tests/analytics/r_oracle/design_cases.R
#
# It writes, beside itself, apistrat.csv, apiclus1.csv and apiclus2.csv (the columns the tests need of
# R's api data, plus the item scores q1, q2 derived below) and design_cases.json (the expected
# figures). The tests read only those files: they never need R.
#
# Conventions:
#   * item share in a domain = svymean(~I(q >= 4), subset(des, domain & !is.na(q))); mean score =
#     svymean(~q, same subset); df = degf(same subset). The whole sample is the domain "everybody".
#   * composite "overall" (definition A: the mean of the q1 and q2 shares) = svycontrast of
#     svyratio(~s_q1 + s_q2, ~d_q1 + d_q2, subset(des, domain)), df = degf(subset(des, domain)).
#   * cov_q1_q2: the covariance of the two whole-sample item shares from the same svyratio.
#   * a case that R refuses records R's error message instead of estimates.
#   * NaN (and NA) from R are written as JSON null; numbers with 17 significant digits.

suppressPackageStartupMessages(library(survey))
suppressPackageStartupMessages(library(jsonlite))
data(api)

script_dir <- function() {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 0) return(getwd())
  dirname(normalizePath(sub("^--file=", "", file_arg[1])))
}
out_dir <- script_dir()
if (packageVersion("survey") != "4.1.1") {
  warning("the committed oracle was generated with survey 4.1.1; this is survey ", packageVersion("survey"))
}

num <- function(x) {  # one number, exactly
  x <- as.numeric(x)
  stopifnot(length(x) == 1)
  structure(if (is.finite(x)) sprintf("%.17g", x) else "null", class = "json")
}
numbers <- function(x) {  # a column of numbers, exactly
  x <- as.numeric(x)
  structure(paste0("[", paste(ifelse(is.finite(x), sprintf("%.17g", x), "null"), collapse = ","), "]"), class = "json")
}

band <- function(x, breaks) as.integer(findInterval(x, breaks) + 1L)  # 1..5; NA stays NA

add_items <- function(d) {
  d$q1 <- band(d$api00, c(550, 650, 700, 800))                 # satisfied: api00 >= 700
  d$q2 <- band(d$api99, c(550, 650, 750, 850))                 # satisfied: api99 >= 750
  d$q2[which(d$ell >= 45)] <- NA                               # item non-response
  d$stype <- as.character(d$stype)
  d$sch_wide <- as.character(d$sch.wide)
  d
}

with_indicators <- function(d) {
  for (k in c("q1", "q2")) {
    answered <- !is.na(d[[k]])
    d[[paste0("d_", k)]] <- as.numeric(answered)
    d[[paste0("s_", k)]] <- as.numeric(answered & d[[k]] >= 4)
  }
  d
}

# --------------------------------------------------------------------------------------------------
# Estimates of one case: every domain (the whole sample first) x item x kind, the composite and the
# covariance of the two whole-sample item shares.

estimate_all <- function(des, by) {
  v <- des$variables
  domains <- list(list(label = NULL, keep = rep(TRUE, nrow(v))))
  if (!is.null(by)) {
    for (value in sort(unique(v[[by]]))) domains[[length(domains) + 1]] <- list(label = value, keep = v[[by]] == value)
  }
  out <- list()
  for (dom in domains) {
    for (k in c("q1", "q2")) {
      answered <- dom$keep & !is.na(v[[k]])
      if (!any(answered)) next
      sub <- des[answered, ]
      share <- svymean(as.formula(paste0("~I(", k, " >= 4)")), sub)
      mean <- svymean(as.formula(paste0("~", k)), sub)
      out[[length(out) + 1]] <- list(domain = dom$label, target = k, kind = "share", estimate = num(coef(share)[2]),
                                     se = num(SE(share)[2]), df = degf(sub))
      out[[length(out) + 1]] <- list(domain = dom$label, target = k, kind = "mean", estimate = num(coef(mean)),
                                     se = num(SE(mean)), df = degf(sub))
    }
    sub <- des[dom$keep, ]
    r <- svyratio(~s_q1 + s_q2, ~d_q1 + d_q2, sub, covmat = TRUE)
    comp <- svycontrast(r, c(0.5, 0, 0, 0.5))
    out[[length(out) + 1]] <- list(domain = dom$label, target = "overall", kind = "share",
                                   estimate = num(coef(comp)), se = num(SE(comp)), df = degf(sub))
  }
  r <- svyratio(~s_q1 + s_q2, ~d_q1 + d_q2, des, covmat = TRUE)
  list(estimates = out, cov_q1_q2 = num(vcov(r)[1, 4]))
}

CASES <- list()
add_case <- function(name, data, des_call, spec, by = NULL, lonely = "fail") {
  old <- options(survey.lonely.psu = lonely)
  on.exit(options(old))
  res <- tryCatch({
    des <- des_call()
    estimate_all(des, by)
  }, error = function(e) list(error = conditionMessage(e)))
  CASES[[name]] <<- c(list(data = data, lonely = lonely, by = by), spec, res)
}

# --------------------------------------------------------------------------------------------------
# R's api data

strat <- with_indicators(add_items(apistrat))
clus1 <- with_indicators(add_items(apiclus1))
clus2 <- with_indicators(add_items(apiclus2))
# apiclus2's pw is the design's 1 / (f1 f2) to 1e-13; write the design's own weights
clus2$pw <- weights(svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2))
clus2$inf <- Inf
clus2$frac1 <- 40 / clus2$fpc1                                   # sampling fractions instead of counts
clus2$frac2 <- ave(clus2$snum, clus2$dnum, FUN = length) / clus2$fpc2

write_api <- function(d, file, columns) {
  d <- d[, columns]
  for (col in columns) if (is.double(d[[col]])) d[[col]] <- sprintf("%.17g", d[[col]])
  write.csv(d, file.path(out_dir, file), row.names = FALSE, na = "", quote = FALSE)
}
write_api(strat, "apistrat.csv", c("snum", "stype", "sch_wide", "pw", "fpc", "q1", "q2"))
write_api(clus1, "apiclus1.csv", c("snum", "dnum", "stype", "pw", "fpc", "q1", "q2"))
write_api(clus2, "apiclus2.csv", c("snum", "dnum", "stype", "pw", "fpc1", "fpc2", "frac1", "frac2", "q1", "q2"))

spec <- function(strata = NULL, psu = NULL, fpc = NULL, weight = "pw") {
  list(strata = strata, psu = psu, fpc = fpc, weight = weight)
}

add_case("apistrat_fpc", "apistrat",
         function() svydesign(id = ~1, strata = ~stype, fpc = ~fpc, weights = ~pw, data = strat),
         spec(strata = "stype", fpc = list("fpc")), by = "sch_wide")
add_case("apiclus1_fpc", "apiclus1",
         function() svydesign(id = ~dnum, fpc = ~fpc, weights = ~pw, data = clus1),
         spec(psu = list("dnum"), fpc = list("fpc")), by = "stype")
add_case("apiclus2_two_stage", "apiclus2",
         function() svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2),
         spec(psu = list("dnum", "snum"), fpc = list("fpc1", "fpc2")), by = "stype")
add_case("apiclus2_two_stage_fractions", "apiclus2",
         function() svydesign(id = ~dnum + snum, fpc = ~frac1 + frac2, weights = ~pw, data = clus2),
         spec(psu = list("dnum", "snum"), fpc = list("frac1", "frac2")), by = "stype")
# stage 2 without fpc (R needs fpc = Inf there; our API: fewer fpc arrays than stages). The districts
# with one sampled school are then lonely at stage 2 (no longer certainty units): R stops under "fail".
for (lonely in c("fail", "certainty", "adjust")) {
  add_case(paste0("apiclus2_stage2_with_replacement_", lonely), "apiclus2",
           function() svydesign(id = ~dnum + snum, fpc = ~fpc1 + inf, weights = ~pw, data = clus2),
           spec(psu = list("dnum", "snum"), fpc = list("fpc1")), by = "stype", lonely = lonely)
}
# no fpc: the ultimate-cluster approximation, stage 2 ignored
add_case("apiclus2_no_fpc", "apiclus2",
         function() svydesign(id = ~dnum + snum, weights = ~pw, data = clus2),
         spec(psu = list("dnum", "snum")), by = "stype")
# what a one-stage design with the stage-1 fpc gives (the smaller SE of the issue)
add_case("apiclus2_one_stage_fpc1", "apiclus2",
         function() svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw, data = clus2),
         spec(psu = list("dnum"), fpc = list("fpc1")), by = "stype")
for (lonely in c("certainty", "average", "adjust")) {
  add_case(paste0("apiclus2_two_stage_", lonely), "apiclus2",
           function() svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2),
           spec(psu = list("dnum", "snum"), fpc = list("fpc1", "fpc2")), by = "stype", lonely = lonely)
}

# --------------------------------------------------------------------------------------------------
# Hand-made designs, generated here and written into the JSON (columns of equal length).

set.seed(20240611)
scores <- function(n) {
  q1 <- sample(1:5, n, replace = TRUE)
  q2 <- sample(1:5, n, replace = TRUE)
  q2[sample(n, max(1, n %/% 6))] <- NA
  list(q1 = q1, q2 = q2)
}
make_rows <- function(units) {
  # units: data.frame with one row per finest unit (its stratum, unit labels and fpc columns) and m
  rows <- units[rep(seq_len(nrow(units)), units$m), setdiff(names(units), "m"), drop = FALSE]
  n <- nrow(rows)
  rows$w <- round(runif(n, 1, 9), 2)
  rows <- cbind(rows, as.data.frame(scores(n)))
  rows$dom <- sample(c("x", "y", "z"), n, replace = TRUE, prob = c(0.5, 0.35, 0.15))
  rownames(rows) <- NULL
  with_indicators(rows)
}
DATA <- list()
as_columns <- function(d) {
  lapply(d, function(col) if (is.numeric(col)) numbers(col) else I(col))
}

# single stage: A (3 PSUs, N = 10), B (2, N = 5), C (1 PSU, N = 1: certainty), D (2 PSUs, N = 2:
# certainty), E (1 PSU, N = 2: lonely, just off the boundary), F (4, N = 40)
cert_units <- data.frame(
  stratum = c("A", "A", "A", "B", "B", "C", "D", "D", "E", "F", "F", "F", "F"),
  psu = c("a1", "a2", "a3", "b1", "b2", "c1", "d1", "d2", "e1", "f1", "f2", "f3", "f4"),
  N = c(10, 10, 10, 5, 5, 1, 2, 2, 2, 40, 40, 40, 40),
  m = c(3, 2, 4, 3, 2, 5, 2, 3, 3, 2, 3, 2, 4)
)
cert <- make_rows(cert_units)
cert$frac <- ave(as.numeric(factor(cert$psu)), cert$stratum, FUN = function(p) length(unique(p))) / cert$N
DATA$certainty <- cert
no_lonely <- cert[cert$stratum != "E", ]
DATA$certainty_no_lonely <- no_lonely
s_cert <- spec(strata = "stratum", psu = list("psu"), fpc = list("N"), weight = "w")
for (lonely in c("fail", "certainty", "remove", "average", "adjust")) {
  add_case(paste0("certainty_", lonely), "certainty",
           function() svydesign(id = ~psu, strata = ~stratum, fpc = ~N, weights = ~w, data = cert, nest = TRUE),
           s_cert, by = "dom", lonely = lonely)
  add_case(paste0("certainty_no_lonely_", lonely), "certainty_no_lonely",
           function() svydesign(id = ~psu, strata = ~stratum, fpc = ~N, weights = ~w, data = no_lonely, nest = TRUE),
           s_cert, by = "dom", lonely = lonely)
}
add_case("certainty_fractions_average", "certainty",
         function() svydesign(id = ~psu, strata = ~stratum, fpc = ~frac, weights = ~w, data = cert, nest = TRUE),
         spec(strata = "stratum", psu = list("psu"), fpc = list("frac"), weight = "w"), by = "dom", lonely = "average")

# lonely PSUs without fpc: "adjust" and the others, whole sample and domains (domain "z" misses the
# lonely strata L1 and L2 in some draws: their PSU total is then zero)
adj_units <- data.frame(
  stratum = c("A", "A", "A", "L1", "B", "B", "L2"),
  psu = c("a1", "a2", "a3", "l1", "b1", "b2", "l2"),
  m = c(4, 3, 3, 3, 2, 4, 1)
)
adj <- make_rows(adj_units)
DATA$adjust <- adj
for (lonely in c("fail", "certainty", "remove", "average", "adjust")) {
  add_case(paste0("adjust_no_fpc_", lonely), "adjust",
           function() svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = adj, nest = TRUE),
           spec(strata = "stratum", psu = list("psu"), weight = "w"), by = "dom", lonely = lonely)
}
adj$N <- ifelse(adj$stratum == "A", 12, ifelse(adj$stratum == "B", 7, 4))
DATA$adjust_fpc <- adj
add_case("adjust_fpc_adjust", "adjust_fpc",
         function() svydesign(id = ~psu, strata = ~stratum, fpc = ~N, weights = ~w, data = adj, nest = TRUE),
         spec(strata = "stratum", psu = list("psu"), fpc = list("N"), weight = "w"), by = "dom", lonely = "adjust")

# two stages, stratified: stratum S1 (3 PSUs of 8), S2 (2 of 6), S3 (1 of 1: certainty PSU, its
# stage 2 still counts). PSU p22 has one sampled SSU of 1 (certainty), p31 ... see N2; PSU p12 has
# one sampled SSU of 3 (a lonely SSU).
two_units <- data.frame(
  stratum = c("S1", "S1", "S1", "S1", "S1", "S1", "S2", "S2", "S2", "S3", "S3", "S3"),
  psu = c("p11", "p11", "p11", "p12", "p13", "p13", "p21", "p21", "p22", "p31", "p31", "p31"),
  ssu = c("1", "2", "3", "1", "1", "2", "1", "2", "1", "1", "2", "3"),
  N1 = c(8, 8, 8, 8, 8, 8, 6, 6, 6, 1, 1, 1),
  N2 = c(5, 5, 5, 3, 4, 4, 2, 2, 1, 9, 9, 9),
  m = c(3, 2, 2, 3, 4, 1, 2, 3, 2, 2, 3, 2)
)
two <- make_rows(two_units)
DATA$two_stage <- two
two_ok <- two
two_ok$N2[two_ok$psu == "p12"] <- 1  # p12's only SSU is now the whole PSU: no lonely SSU
DATA$two_stage_no_lonely <- two_ok
s_two <- spec(strata = "stratum", psu = list("psu", "ssu"), fpc = list("N1", "N2"), weight = "w")
for (lonely in c("fail", "certainty", "remove", "average", "adjust")) {
  add_case(paste0("two_stage_", lonely), "two_stage",
           function() svydesign(id = ~psu + ssu, strata = ~stratum, fpc = ~N1 + N2, weights = ~w, data = two, nest = TRUE),
           s_two, by = "dom", lonely = lonely)
}
for (lonely in c("fail", "average")) {
  add_case(paste0("two_stage_no_lonely_", lonely), "two_stage_no_lonely",
           function() svydesign(id = ~psu + ssu, strata = ~stratum, fpc = ~N1 + N2, weights = ~w, data = two_ok, nest = TRUE),
           s_two, by = "dom", lonely = lonely)
}
add_case("two_stage_no_fpc", "two_stage",
         function() svydesign(id = ~psu + ssu, strata = ~stratum, weights = ~w, data = two, nest = TRUE),
         spec(strata = "stratum", psu = list("psu", "ssu"), weight = "w"), by = "dom", lonely = "certainty")

# three stages: districts (N1 per stratum), schools (N2 per district), classes (N3 per school)
three_units <- data.frame(
  stratum = c("T1", "T1", "T1", "T1", "T1", "T1", "T2", "T2", "T2", "T2"),
  psu = c("d1", "d1", "d1", "d2", "d2", "d3", "d4", "d4", "d5", "d5"),
  ssu = c("s1", "s1", "s2", "s1", "s2", "s1", "s1", "s2", "s1", "s1"),
  tsu = c("c1", "c2", "c1", "c1", "c1", "c1", "c1", "c1", "c1", "c2"),
  N1 = c(9, 9, 9, 9, 9, 9, 4, 4, 4, 4),
  N2 = c(6, 6, 6, 2, 2, 1, 3, 3, 5, 5),
  N3 = c(4, 4, 1, 2, 3, 1, 2, 1, 7, 7),
  m = c(2, 3, 2, 2, 3, 3, 2, 2, 3, 2)
)
three <- make_rows(three_units)
DATA$three_stage <- three
for (lonely in c("certainty", "adjust", "average")) {
  add_case(paste0("three_stage_", lonely), "three_stage",
           function() svydesign(id = ~psu + ssu + tsu, strata = ~stratum, fpc = ~N1 + N2 + N3, weights = ~w,
                                data = three, nest = TRUE),
           spec(strata = "stratum", psu = list("psu", "ssu", "tsu"), fpc = list("N1", "N2", "N3"), weight = "w"),
           by = "dom", lonely = lonely)
}

json <- toJSON(
  list(
    generated_by = "tests/analytics/r_oracle/design_cases.R",
    r_version = R.version.string,
    survey_version = as.character(packageVersion("survey")),
    datasets = list(apistrat = "apistrat.csv", apiclus1 = "apiclus1.csv", apiclus2 = "apiclus2.csv"),
    data = lapply(DATA, function(d) as_columns(d[, intersect(c("stratum", "psu", "ssu", "tsu", "N", "frac", "N1",
                                                               "N2", "N3", "w", "q1", "q2", "dom"), names(d))])),
    cases = CASES
  ),
  auto_unbox = TRUE, null = "null", na = "null", json_verbatim = TRUE, pretty = TRUE
)
writeLines(json, file.path(out_dir, "design_cases.json"))
cat("wrote", length(CASES), "cases to", file.path(out_dir, "design_cases.json"), "\n")
