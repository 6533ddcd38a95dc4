## pb-enrich: the processors (src/lib/proc), the tool, its tests and pages.
