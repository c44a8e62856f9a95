/* A Multiboot kernel that prints "TF" on COM1 and then triple-faults (an
 * empty IDT turns int3 into a shutdown).  Built with -DTF_DELAY it first
 * waits about 2^30 TSC cycles (a few tenths of a second): without
 * -no-reboot kvmpc resets and it runs again, slowly enough not to look
 * like a reset loop. */
    .text
    .align 4
    .long 0x1BADB002
    .long 0x00000000
    .long -0x1BADB002
    .globl _start
_start:
    movw $0x3f8, %dx
    movb $'T', %al
    outb %al, %dx
    movb $'F', %al
    outb %al, %dx
    movb $'\n', %al
    outb %al, %dx
#ifdef TF_DELAY
    rdtsc
    movl %eax, %esi
    movl %edx, %edi
1:  rdtsc
    subl %esi, %eax
    sbbl %edi, %edx
    jnz 2f
    cmpl $0x40000000, %eax
    jb 1b
2:
#endif
    lidt idt_empty
    int3
3:  hlt
    jmp 3b
    .align 8
idt_empty:
    .word 0
    .long 0
