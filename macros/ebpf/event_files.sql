{#-
    The eBPF event files on disk and which of them a model still has to read. Files are named by their path
    under the source folder, `events/<host>/<file>.jsonl`, everywhere (quarantine, ledger, events).
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
    {%- set found = modules.re.search("'utf8sub://([^']+)'", location) -%}
    {%- if not found -%}
        {{ exceptions.raise_compiler_error("the eBPF source reads no 'utf8sub://...' glob: " ~ location) }}
    {%- endif -%}
    {{ return(found.group(1)) }}
{%- endmacro %}


{#-
    The event files a file-scoped reader has to read: every file on disk that `ledger` (a relation with
    file_name, file_bytes, file_modified_at; none on a full build) does not hold at its current size and
    modification time, so a new file and a file that grew or was rewritten since are read, others not.
    Returns a list of {file_name, file_bytes, file_modified_us}, listed when the model is compiled: a file that
    grows after that is seen at its listed size and read again by the next run.
-#}
{% macro ebpf_event_files_to_read(ledger=none) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set listing -%}
        with

        on_disk as (

            select
                {{ ebpf_file_name('filename') }} as file_name,
                size as file_bytes,
                epoch_us(last_modified) as file_modified_us,
            from read_blob('{{ ebpf_events_glob() | replace("'", "''") }}')

        )

        select on_disk.*
        from on_disk
        {%- if ledger is not none %}
        anti join {{ ledger }} as ledger
            on ledger.file_name = on_disk.file_name
            and ledger.file_bytes = on_disk.file_bytes
            and epoch_us(ledger.file_modified_at) = on_disk.file_modified_us
        {%- endif %}
        order by file_name
    {%- endset -%}
    {%- set files = [] -%}
    {%- for row in run_query(listing).rows -%}
        {%- do files.append({
            'file_name': row[0], 'file_bytes': row[1] | int, 'file_modified_us': row[2] | int,
        }) -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}


{#-
    The files the ledger (`file_reads`: int_ebpf__event_files_read) read after the newest read a loading
    model has taken in (`loaded`: its relation, whose `source_read_at` column records the reads it loaded;
    none: every file of the ledger). Returns {file_names, read_at}: the files, and the newest read among them
    (none when there is nothing new).
-#}
{% macro ebpf_files_read_since(file_reads, loaded) %}
    {%- if not execute or file_reads is none -%}{{ return({'file_names': [], 'read_at': none}) }}{%- endif -%}
    {%- set query -%}
        select file_name, strftime(read_at, '%Y-%m-%d %H:%M:%S.%f')
        from {{ file_reads }}
        {%- if loaded is not none %}
        where read_at > (select coalesce(max(source_read_at), '-infinity'::timestamp) from {{ loaded }})
        {%- endif %}
        order by file_name
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set read_at = rows | map(attribute=1) | max if rows | length > 0 else none -%}
    {{ return({'file_names': rows | map(attribute=0) | list, 'read_at': read_at}) }}
{% endmacro %}
