{%- set src = source('genesys', 'call_analysis_response_sets') %}
select
    "id" as response_set_id,
    "name" as response_set_name,
    cast("beepDetectionEnabled" as boolean) as beep_detection_enabled,
    cast("amdSpeechDistinguishEnabled" as boolean) as amd_speech_distinguish_enabled,
    "liveSpeakerDetectionMode" as live_speaker_detection_mode,
    {{ utc(src, 'dateModified') }} as modified_at_utc
from {{ src }}
