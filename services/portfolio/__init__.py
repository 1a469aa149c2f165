"""Portfolio health: each served model judged per pillar, stored by `govern monitor`, read by
the portfolio screen, the control matrix and the evidence packs."""
