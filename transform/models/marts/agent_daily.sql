-- Per agent and local day: attempts the agent handled, talk/hold/ACW/handle time and the wrap-up codes chosen.
with handled as (
    select * from {{ ref('stg_genesys__attempts') }} where agent_id is not null
),

codes as (
    select agent_id, attempt_date_local, coalesce(wrap_up_code_name, wrap_up_code_id, '(none)') as wrap_up_code,
           count(*) as n
    from handled
    group by agent_id, attempt_date_local, coalesce(wrap_up_code_name, wrap_up_code_id, '(none)')
),

code_lists as (
    select agent_id, attempt_date_local,
           count(*) as distinct_wrap_up_codes,
           string_agg(wrap_up_code || ' (' || cast(n as varchar) || ')', ', ' order by n desc, wrap_up_code)
               as wrap_up_codes
    from codes
    group by agent_id, attempt_date_local
),

daily as (
    select
        agent_id,
        attempt_date_local as day_local,
        count(*) as attempts_handled,
        sum(case when status = 'CONNECTED' then 1 else 0 end) as connected_attempts,
        count(distinct campaign_id) as campaigns,
        coalesce(sum(talk_seconds), 0) as talk_seconds,
        coalesce(sum(hold_seconds), 0) as hold_seconds,
        coalesce(sum(acw_seconds), 0) as acw_seconds,
        coalesce(sum(handle_seconds), 0) as handle_seconds,
        avg(handle_seconds) as avg_handle_seconds
    from handled
    group by agent_id, attempt_date_local
)

select
    daily.agent_id,
    users.user_name as agent_name,
    daily.day_local,
    '{{ genesys_time_zone() }}' as time_zone,
    daily.attempts_handled,
    daily.connected_attempts,
    daily.campaigns,
    daily.talk_seconds,
    daily.hold_seconds,
    daily.acw_seconds,
    daily.handle_seconds,
    daily.avg_handle_seconds,
    code_lists.distinct_wrap_up_codes,
    code_lists.wrap_up_codes
from daily
left join code_lists
    on code_lists.agent_id = daily.agent_id and code_lists.attempt_date_local = daily.day_local
left join {{ ref('stg_genesys__users') }} as users
    on users.user_id = daily.agent_id
