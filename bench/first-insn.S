/* The smallest Multiboot v1 kernel: its first instruction writes 0 to
 * isa-debug-exit (port 0xf4), so the emulator exits with status 1.
 * Used to time "process start to first guest instruction". */
    .text
    .align 4
    .long 0x1BADB002
    .long 0x00000000
    .long -0x1BADB002
    .globl _start
_start:
    xorl %eax, %eax
    outl %eax, $0xf4
1:  hlt
    jmp 1b
