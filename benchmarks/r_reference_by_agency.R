# Item shares (answers 4-5) by agency with design-based standard errors, as a statistician writes it in R:
# data.table::fread, the ratio per agency from weighted sums, and ONE svyby(svytotal) over the 22
# linearised variables z = (s - R d) / Z (s = satisfied, d = answered), whose domain totals' SEs are
# the ratios' SEs (the same numbers as svyratio, and as `python -m analytics estimate ... --by agency`).
#
#   Rscript benchmarks/r_reference_by_agency.R rows.csv out.csv            # the idiomatic reference
#   Rscript benchmarks/r_reference_by_agency.R rows.csv out.csv --slow     # 22 x svyby(svyratio), read.csv
#
# The CSV is the one benchmarks/cli_vs_r_speed.py writes: agency (stratum and domain), psu (counter-day,
# nested in agency), w (weight), q01..q22 (scores 1-5, blank = no answer). Writes agency,item,estimate,se.
# --slow is the formulation the README first compared with (read.csv, one svyby(svyratio) per item); it is
# kept only as a second reference: nobody who knows survey writes it for 22 items.
suppressPackageStartupMessages({
  library(data.table)
  library(survey)
})
args <- commandArgs(trailingOnly = TRUE)
slow <- "--slow" %in% args
args <- setdiff(args, "--slow")

if (!slow) {
  d <- fread(args[1], na.strings = "", colClasses = list(character = c("agency", "psu")))
  items <- grep("^q[0-9]+$", names(d), value = TRUE)
  g <- d$agency
  estimates <- list()
  for (q in items) {
    answered <- !is.na(d[[q]])
    s <- as.numeric(answered & d[[q]] >= 4)
    a <- as.numeric(answered)
    X <- rowsum(d$w * s, g)[, 1]
    Z <- rowsum(d$w * a, g)[, 1]
    R <- X / Z
    set(d, j = paste0("z_", q), value = (s - R[g] * a) / Z[g])
    estimates[[q]] <- R
  }
  setDF(d)
  des <- svydesign(ids = ~psu, strata = ~agency, weights = ~w, data = d, nest = TRUE)
  z <- paste0("z_", items)
  by_agency <- svyby(make.formula(z), ~agency, des, svytotal)
  se <- SE(by_agency)
  colnames(se) <- items
  out <- rbindlist(lapply(items, function(q) {
    data.table(agency = by_agency$agency, item = q, estimate = estimates[[q]][by_agency$agency], se = se[, q])
  }))
} else {
  d <- read.csv(args[1])
  items <- grep("^q[0-9]+$", names(d), value = TRUE)
  for (q in items) {
    d[[paste0("s_", q)]] <- ifelse(is.na(d[[q]]), 0, as.numeric(d[[q]] >= 4))
    d[[paste0("d_", q)]] <- as.numeric(!is.na(d[[q]]))
  }
  des <- svydesign(ids = ~psu, strata = ~agency, weights = ~w, data = d, nest = TRUE)
  out <- do.call(rbind, lapply(items, function(q) {
    r <- svyby(as.formula(paste0("~s_", q)), ~agency, des, svyratio, denominator = as.formula(paste0("~d_", q)))
    data.frame(agency = r$agency, item = q, estimate = coef(r), se = SE(r))
  }))
}
fwrite(out, args[2], sep = ",", quote = FALSE)
