{#-
    The eBPF event files: their names, the source's glob, and which of them arrived since a reader last
    loaded. Files are named by their path under the source folder, `events/<host>/<file>.jsonl`, everywhere
    (arrivals, quarantine, ledger, events).
-#}

{% macro ebpf_file_name(path_column) -%}
    regexp_extract({{ path_column }}, '(events/[^/]+/[^/]+)$', 1)
{%- endmacro %}


{% macro ebpf_string_list(values) -%}
    {%- for value in values -%}
        '{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The glob of the eBPF source (its external_location), without the utf8sub:// protocol: listing files needs
    their sizes and times only, which the plain filesystem gives without opening them. -#}
{% macro ebpf_events_glob() -%}
    {%- set location = source('ebpf', 'event_lines') | string -%}
    {#- At parse time the source is not resolved yet (calling it there records the dependency). -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set found = modules.re.search("'utf8sub://([^']+)'", location) -%}
    {%- if not found -%}
        {{ exceptions.raise_compiler_error("the eBPF source reads no 'utf8sub://...' glob: " ~ location) }}
    {%- endif -%}
    {{ return(found.group(1)) }}
{%- endmacro %}


{#-
    The files that arrived (`arrivals`: int_ebpf__event_file_arrivals) after the newest arrival a reader of
    the files has loaded (`loaded`: its relation, whose `loaded_column` records the arrival each row came
    with; none: every file that arrived). Returns {file_names, arrived_at}: the files, and the newest arrival
    among them (none when nothing arrived). Called when the reader compiles, so that it opens only those files.
    A reader built by an earlier version of these models lacks the column: that stops the run with what to do,
    rather than guessing which files it has loaded.
-#}
{% macro ebpf_files_arrived_since(arrivals, loaded, loaded_column='source_arrived_at') %}
    {%- if not execute or arrivals is none -%}{{ return({'file_names': [], 'arrived_at': none}) }}{%- endif -%}
    {%- if loaded is not none
        and loaded_column not in (adapter.get_columns_in_relation(loaded) | map(attribute='name') | list) -%}
        {{ exceptions.raise_compiler_error(
            loaded ~ " has no " ~ loaded_column ~ " column: it was built by an earlier version of the eBPF"
            ~ " models, so which event files it holds is unknown. Rebuild them once from the arrivals on:"
            ~ " overclock build --full-refresh -s int_ebpf__event_file_arrivals+"
        ) }}
    {%- endif -%}
    {%- set query -%}
        select file_name, strftime(arrived_at, '%Y-%m-%d %H:%M:%S.%f')
        from {{ arrivals }}
        {%- if loaded is not none %}
        where arrived_at > (
            -- Qualified, so that a missing column cannot bind to the arrivals' own.
            select coalesce(max(loaded.{{ loaded_column }}), '-infinity'::timestamp) from {{ loaded }} as loaded
        )
        {%- endif %}
        order by file_name
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set arrived_at = rows | map(attribute=1) | max if rows | length > 0 else none -%}
    {{ return({'file_names': rows | map(attribute=0) | list, 'arrived_at': arrived_at}) }}
{% endmacro %}
