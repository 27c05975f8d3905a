{#-
    One row per (author, n-gram) the author used in a current message, n = 1..3: the input of the private
    vocabulary release. Tokens are normalised: lowercase, apostrophes dropped (don't -> dont), every other
    run of punctuation, symbols (emoji included) and white space is one separator.
-#}
with

messages as (

    select * from {{ ref('int_privacy__current_messages') }}

),

normalised as (

    select
        author_id,
        string_split_regex(
            trim(regexp_replace(regexp_replace(lower(content), '[''’]', '', 'g'), '[\pP\pS\s]+', ' ', 'g')),
            ' '
        ) as tokens,
    from messages

),

positions as (

    select
        author_id,
        tokens,
        unnest(range(1, len(tokens) + 1)) as token_position,
    from normalised

),

ngrams as (

    select
        positions.author_id,
        array_to_string(
            list_slice(positions.tokens, positions.token_position, positions.token_position + lengths.ngram_length - 1),
            ' '
        ) as ngram,
        lengths.ngram_length,
    from positions
    cross join (values (1), (2), (3)) as lengths (ngram_length)
    where positions.token_position + lengths.ngram_length - 1 <= len(positions.tokens)

),

final as (

    select distinct
        author_id,
        ngram,
        ngram_length,
    from ngrams
    where ngram <> ''

)

select * from final
