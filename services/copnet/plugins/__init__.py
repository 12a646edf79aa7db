"""The plugins service: per-organization plugin configuration, event reactions, roster imports."""
