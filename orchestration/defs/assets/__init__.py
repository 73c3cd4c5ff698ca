"""Assets of the code location: landing tables, dbt models, publish step.

definitions.py loads every asset defined in this package, so an asset module added here (for
example ``scoring.py``) joins the main job and runs before the publish step without another
edit. Assets that write tables take ``**CANDIDATE_WRITER`` and the ``warehouse`` resource
(orchestration/defs/resources.py).
"""
