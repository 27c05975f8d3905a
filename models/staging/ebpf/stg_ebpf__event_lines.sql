{#-
    Every input line of every event file, numbered within its file, parsed (30 fields, typed) or given a
    quarantine reason: macros/ebpf/parsed_event_lines.sql, over all files. The incremental models that read
    the files (int_ebpf__event_files_read, int_ebpf__file_events_deduplicated) call the same macro with the
    files they have not read yet; this view is the whole picture, for inspection and tests.
-#}
{{ ebpf_parsed_event_lines() }}
