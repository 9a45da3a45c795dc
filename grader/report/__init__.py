"""Human-facing reports: the terminal progress and summary (HTML reports come later)."""
