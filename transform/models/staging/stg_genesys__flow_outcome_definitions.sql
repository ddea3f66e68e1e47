select
    "id" as flow_outcome_id,
    "name" as flow_outcome_name,
    "description" as description,
    {{ json_text('division', 'id') }} as division_id
from {{ source('genesys', 'flow_outcome_definitions') }}
