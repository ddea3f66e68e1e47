-- Agents and supervisors. Empty (same columns) when the users stream was not loaded, so agent_daily still builds.
{% if raw_table_exists('users') %}
select
    "id" as user_id,
    "name" as user_name,
    "email" as email,
    "state" as state,
    "title" as title,
    "department" as department,
    {{ json_text('division', 'id') }} as division_id,
    {{ json_text('manager', 'id') }} as manager_id
from {{ source('genesys', 'users') }}
{% else %}
select
    cast(null as varchar) as user_id, cast(null as varchar) as user_name, cast(null as varchar) as email,
    cast(null as varchar) as state, cast(null as varchar) as title, cast(null as varchar) as department,
    cast(null as varchar) as division_id, cast(null as varchar) as manager_id
where 1 = 0
{% endif %}
