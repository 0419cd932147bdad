"""Sphinx configuration; the build runs with warnings as errors."""

from __future__ import annotations

import e2badges

project = "e2badges"
author = "e2badges maintainers"
copyright = "2026, e2badges maintainers"  # Sphinx's own name for it
release = e2badges.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"exclude-members": "model_config, model_fields, model_computed_fields"}
nitpicky = False
html_theme = "alabaster"
suppress_warnings = ["myst.xref_missing"]
