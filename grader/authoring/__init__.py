"""Instructor-side authoring: turn an nbgrader-format source notebook into the student template."""
