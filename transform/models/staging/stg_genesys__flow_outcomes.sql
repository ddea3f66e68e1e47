{%- set src = source('genesys', 'flow_outcomes') %}
with outcomes as (
    select
        "flowId" as flow_id,
        "flowName" as flow_name,
        "flowOutcomeId" as flow_outcome_id,
        "flowOutcomeName" as flow_outcome_name,
        "flowOutcomeValue" as flow_outcome_value,
        {{ utc(src, 'intervalStart') }} as interval_start_utc,
        {{ utc(src, 'intervalEnd') }} as interval_end_utc,
        "granularity" as granularity,
        coalesce("timeZone", 'UTC') as time_zone,
        cast("count" as bigint) as outcome_count,
        cast("failedCount" as bigint) as failed_count,
        cast("avgOutcomeSeconds" as double precision) as avg_outcome_seconds,
        cast("percentOfFlowTotal" as double precision) as percent_of_flow_total
    from {{ src }}
)

select *, cast({{ to_local('interval_start_utc', 'time_zone') }} as date) as interval_date_local
from outcomes
