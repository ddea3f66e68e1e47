-- One row per dial attempt (conversation). Times: UTC, and wall-clock in var('time_zone').
{%- set src = source('genesys', 'attempts') %}
with attempts as (
    select
        "conversationId" as conversation_id,
        {{ utc(src, 'attemptDate') }} as attempted_at_utc,
        {{ utc(src, 'completedDate') }} as completed_at_utc,
        "campaignId" as campaign_id,
        "contactListId" as contact_list_id,
        "contactId" as contact_id,
        "status" as status,
        "statusRule" as status_rule,
        "callAnalysisResult" as call_analysis_result,
        "dispositionAnalyzer" as disposition_analyzer,
        "wrapUpCodeId" as wrap_up_code_id,
        "wrapUpCodeName" as wrap_up_code_name,
        "wrapUpCodeSource" as wrap_up_code_source,
        "agentId" as agent_id,
        "queueId" as queue_id,
        "disconnectType" as disconnect_type,
        cast("dialingSeconds" as double precision) as dialing_seconds,
        cast("contactingSeconds" as double precision) as contacting_seconds,
        cast("talkSeconds" as double precision) as talk_seconds,
        cast("holdSeconds" as double precision) as hold_seconds,
        cast("acwSeconds" as double precision) as acw_seconds,
        cast("handleSeconds" as double precision) as handle_seconds,
        -- qualityFlags unpacked (README, quality flags table)
        {{ has_flag('qualityFlags', 'IN_PROGRESS') }} as is_in_progress,
        {{ has_flag('qualityFlags', 'END_BEFORE_START') }} as has_clock_skew,
        {{ has_flag('qualityFlags', 'NO_CONVERSATION_MEDIA') }} as has_no_media,
        {{ has_flag('qualityFlags', 'UNKNOWN_WRAPUP_CODE') }} as has_unknown_wrap_up_code,
        {{ has_flag('qualityFlags', 'UNMAPPED_STATUS') }} as has_unmapped_status,
        {{ has_flag('qualityFlags', 'NO_CONVERSATION_START') }} as has_no_conversation_start,
        {{ array_length('qualityFlags') }} as quality_flag_count
    from {{ src }}
)

select
    *,
    {{ to_local('attempted_at_utc') }} as attempted_at_local,
    cast({{ to_local('attempted_at_utc') }} as date) as attempt_date_local,
    date_trunc('hour', {{ to_local('attempted_at_utc') }}) as attempt_hour_local,
    -- a live person answered: CONNECTED, or ABANDONED (answered, no agent took it); Genesys' nOutboundConnected
    status in ('CONNECTED', 'ABANDONED') as is_live_person
from attempts
