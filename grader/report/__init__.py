"""Human-facing reports: the class report per assignment (HTML, CSV, feedback pages), the
course report of `grader final`, and the terminal progress and summary."""
