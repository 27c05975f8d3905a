{#- Generic data tests of the search-indexing domain. Each returns the offending rows. -#}

{#- A timestamp column is never earlier than another one of the same row (deliveries follow events). -#}
{% test search_not_before(model, column_name, earlier_column) %}
select *
from {{ model }}
where {{ column_name }} < {{ earlier_column }}
{% endtest %}
