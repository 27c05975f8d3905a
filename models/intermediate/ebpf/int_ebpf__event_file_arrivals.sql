{#-
    The event files that have arrived: one row per file on disk, as of the latest version (size and
    modification time) a run found, and when that run found it (`arrived_at`). A new file, a file that grew
    (the agent still appending) and a file rewritten in place arrive again; the others are left as they are.
    Only file metadata is read (read_blob without its content column opens no file), so this costs
    milliseconds; the two readers of the files, the ledger (int_ebpf__event_files_read) and the events table
    (int_ebpf__file_events_deduplicated), each load the files that arrived after their own last load, side by
    side: the statistics do not wait on the quarantine bookkeeping. A file removed from disk keeps its row
    until a full refresh.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='file_name',
        on_schema_change='fail',
    )
}}

with

on_disk as (

    select
        {{ ebpf_file_name('filename') }} as file_name,
        size::ubigint as file_bytes,
        -- Microseconds, as the file system gives them; a plain (UTC) timestamp.
        make_timestamp(epoch_us(last_modified)) as file_modified_at,
    from read_blob('{{ ebpf_events_glob() | replace("'", "''") }}')

),

arrived_at as (

    -- When this run found the files (UTC), kept strictly after every earlier arrival even if the clock went
    -- back, since the readers load the arrivals newer than their last one.
    select
        {%- if is_incremental() %}
        greatest(
            now() at time zone 'UTC',
            coalesce((select max(arrived_at) from {{ this }}) + interval 1 microsecond, now() at time zone 'UTC')
        )
        {%- else %}
        now() at time zone 'UTC'
        {%- endif %}
            as arrived_at

),

final as (

    select
        on_disk.file_name,
        split_part(on_disk.file_name, '/', 2) as host_directory,
        on_disk.file_bytes,
        on_disk.file_modified_at,
        arrived_at.arrived_at,
    from on_disk
    cross join arrived_at
    {%- if is_incremental() %}
    -- A file already here at its current size and modification time has not arrived again.
    anti join {{ this }} as known
        on known.file_name = on_disk.file_name
        and known.file_bytes = on_disk.file_bytes
        and known.file_modified_at = on_disk.file_modified_at
    {%- endif %}

)

select * from final
