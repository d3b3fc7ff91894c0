/* The intents, their paraphrase templates and the slot values of the spoken-command
 * corpus. Written out in words as they are spoken ("seven thirty", "o clock"), so that a
 * transcript is also the text both synthesisers read. */
#include "data/synth/synth_slu_intents.h"
#include <stddef.h>

#define T(...) (const char *const[]){__VA_ARGS__, NULL}

/* Weights: "play [title]" and the fixed commands are the frequent requests an on-device
 * model (TinyS2I) answers; play 6, each command 1.5, each other intent 1 gives about
 * 21 % play, 41 % commands and 38 % others. */
static const slu_intent intents[] = {
    {"music_pause", SLU_COMMAND, 1.5, T("pause", "pause the music", "pause it", "hold the music"),
     T("put the music on hold", "pause playback")},
    {"music_resume", SLU_COMMAND, 1.5, T("resume", "continue", "resume the music", "keep playing"),
     T("carry on playing", "start the music again")},
    {"music_stop", SLU_COMMAND, 1.5, T("stop", "stop the music", "stop playing"),
     T("end the music", "that is enough music")},
    {"music_next", SLU_COMMAND, 1.5, T("next", "next song", "skip this song", "play the next track"),
     T("skip ahead", "go to the next one")},
    {"music_previous", SLU_COMMAND, 1.5, T("previous", "previous song", "go back", "play the previous track"),
     T("back one song", "go to the song before")},
    {"audio_volume_up", SLU_COMMAND, 1.5, T("volume up", "louder", "turn it up", "increase the volume"),
     T("make it louder", "raise the volume")},
    {"audio_volume_down", SLU_COMMAND, 1.5, T("volume down", "quieter", "turn it down", "decrease the volume"),
     T("make it quieter", "lower the volume")},
    {"audio_volume_mute", SLU_COMMAND, 1.5, T("mute", "mute the sound", "silence"),
     T("turn the sound off", "no sound please")},
    {"music_play", SLU_TITLE, 6, T("play $title", "put on $title", "i want to hear $title", "play the song $title"),
     T("could you play $title", "start playing $title", "let me hear $title")},
    {"weather_query", SLU_OTHER, 1,
     T("what is the weather $date", "what is the weather in $place", "will it rain $date", "is it cold in $place"),
     T("how is the weather in $place $date", "do i need an umbrella $date")},
    {"alarm_set", SLU_OTHER, 1, T("set an alarm for $time", "wake me up at $time", "alarm at $time $date"),
     T("i need to get up at $time", "create an alarm for $time $date")},
    {"alarm_query", SLU_OTHER, 1, T("what alarms do i have", "when is my alarm", "show my alarms $date"),
     T("is there an alarm set for $date", "list my alarms")},
    {"alarm_remove", SLU_OTHER, 1, T("cancel my alarm", "delete the alarm for $time", "remove the alarm $date"),
     T("turn off the alarm for $time", "i do not need an alarm $date")},
    {"calendar_query", SLU_OTHER, 1,
     T("what is on my calendar $date", "do i have any meetings $date", "what is my schedule $date"),
     T("am i busy $date", "what have i got on $date")},
    {"calendar_set", SLU_OTHER, 1,
     T("add $event to my calendar $date", "schedule $event at $time", "put $event in my calendar"),
     T("remind me about $event $date at $time", "book $event for $date")},
    {"iot_lights_on", SLU_OTHER, 1, T("turn on the lights", "lights on", "switch on the light in the $room"),
     T("light up the $room", "i need some light in the $room")},
    {"iot_lights_off", SLU_OTHER, 1, T("turn off the lights", "lights off", "switch off the light in the $room"),
     T("make the $room dark", "kill the lights in the $room")},
    {"datetime_query", SLU_OTHER, 1, T("what time is it", "what time is it in $place", "what is the date today"),
     T("tell me the time in $place", "what day is it")},
    {"news_query", SLU_OTHER, 1, T("what is the news", "tell me the $topic news", "any news about $topic"),
     T("what is happening in $topic", "give me the latest $topic headlines")},
    {"general_joke", SLU_OTHER, 1, T("tell me a joke", "make me laugh", "say something funny"),
     T("do you know any jokes", "i want to hear a joke")},
};

static const slu_slot slots[] = {
    {"time", T("six am", "six thirty am", "seven am", "seven fifteen", "seven thirty", "eight o clock",
               "eight forty five", "nine am", "nine thirty pm", "ten pm", "eleven fifteen", "noon", "midnight",
               "half past six", "quarter to eight", "five pm", "four thirty", "three o clock", "two fifteen pm",
               "one pm")},
    {"date", T("today", "tomorrow", "tonight", "this morning", "this evening", "on monday", "on wednesday",
               "on friday", "on saturday", "this weekend", "next week")},
    {"place", T("london", "paris", "berlin", "madrid", "boston", "chicago", "seattle", "denver", "tokyo",
                "sydney", "dublin", "toronto", "vienna", "rome", "oslo", "cairo")},
    {"room", T("kitchen", "bedroom", "living room", "bathroom", "hallway", "office", "garage", "dining room")},
    {"topic", T("sports", "business", "science", "politics", "technology", "health", "world", "local",
                "entertainment", "travel")},
    {"event", T("a meeting", "lunch with anna", "the dentist", "a team call", "dinner with ben", "yoga class",
                "a haircut", "the school play", "a doctor appointment", "coffee with emma")},
    {NULL, NULL},
};

const slu_intent *slu_intents(int *n) {
    *n = (int)(sizeof intents / sizeof *intents);
    return intents;
}

const slu_slot *slu_slots(void) { return slots; }

const char *slu_class_name(slu_class c) {
    return c == SLU_COMMAND ? "command" : c == SLU_TITLE ? "title" : "other";
}
