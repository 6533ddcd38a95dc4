## pb-export: the writers (src/lib/out), the tool, its tests and pages.
