"""Reports on paper and as data: the evidence pack per model version and the portfolio."""
